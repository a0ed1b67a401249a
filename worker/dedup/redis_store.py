"""The shared index in Redis: every worker checks and inserts atomically.

Layout (``P`` = key prefix; every key has a TTL):

* ``P r:<ref>`` (8 raw bytes, the hash of the doc id and the record's origin): one
  canonical version's record (doc id, exact hash, shingle count, shingle sample,
  ~0.8 KB), ``EX ttl_s``. Each version of a page is a record of its own, so a
  released version goes without touching the page's earlier ones.
* ``P p:<doc key>``: the page's latest versions (``MAX_VERSIONS``, JSON): origin hash,
  extracted-text hash, content hash, version and verdict, and while reserved the
  owner and the reservation's end; what replays and recrawls are decided on.
* ``P w:<ref>``: the worker holding a canonical version reserved, ``EX hold_s``.
* ``P o:<ref>``: a version published ``new``, its output (topic and value, zlib), kept
  ``EX`` the race window to be published again if an earlier-fetched copy takes over;
  ``P n:<ref>``: that version was demoted (no longer a candidate), ``P k:<ref>``: the
  cluster id of a canonical that took over (its demoted copy's), both ``EX ttl_s``.
* ``P b:<epoch>:<bucket>``: a hash from 8-byte index keys (exact hash, LSH bands)
  to the doc keys stored under them (the ``MAX_PER_KEY`` latest). Small hashes
  are listpacks (~20 bytes an entry instead of ~100 for a key per band); the
  time epoch in the name lets a whole bucket expire (``EXPIREAT`` end of epoch
  + ttl_s) instead of each entry. A lookup reads the epochs that can still
  hold live texts.

Memory: ~1.8 KB per canonical text measured (records + index entries), up to
~2 KB in steady state because index hashes outlive records by up to half a TTL.
Keep ``maxmemory-policy`` at ``noeviction`` or ``volatile-*``: all keys have TTLs,
and an out-of-memory reply is retried, never dead-lettered.

One Lua script does check-and-insert: it decides replays and unchanged recrawls
from the page's versions, reads the candidates and, when they and the page's
latest version are exactly what the caller already judged (none, on the first
call), stores the version (reserved) in the same atomic step. Otherwise it returns
the candidates; the caller decides with ``verify.decide`` (the same code as the in-process
index) and calls again with the set it judged and its verdict. A concurrent
insert of a copy changes that set, so the second worker sees the first one's
copy instead of publishing the story twice. A copy whose canonical another worker
holds reserved waits (a transient error: the batch is retried) until that worker
confirms or releases it, or ``hold_s`` passes (a crash: the version then stands, and
the replay of the uncommitted record takes it over).

The race rule (``race``) is decided in the same step: with the caller's duplicate verdict
come the canonical's page key and ref, and the script demotes that canonical (its page
entry rewritten as the copy's duplicate, ``n:<ref>`` set) and stores the copy as ``new``
when the canonical is still its page's only, confirmed, ``new`` version, fetched later,
arrived within the window, and its output is kept; it returns that output. Releasing the
takeover restores the canonical.
"""

from __future__ import annotations

import hashlib
import math
import struct
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

import orjson
import redis

from worker.dedup import BUCKET_BITS, KEY_PREFIX, WINDOW_S, pages, race
from worker.dedup.kept import pack_output, unpack_output
from worker.dedup.minhash import FORMAT, Sketch, Sketcher, doc_key, pack_sample, unpack_sample
from worker.dedup.verify import MAX_PER_KEY, Candidate, Thresholds, cluster_of, decide
from worker.logs import get_logger
from worker.model import Correction, DedupVerdict, Reservation, Sighting, TransientError

if TYPE_CHECKING:
    import numpy as np
    from redis.commands.core import Script

MAX_ATTEMPTS = 16
EPOCHS_PER_TTL = 2  # index hashes live ttl_s + one epoch; a lookup reads 3 epochs
# Error replies that go away by themselves or by an operator's hand (out of memory,
# a long script, a failover to a read-only replica): retry, never dead-letter.
_TRANSIENT_REPLIES = ("OOM", "BUSY", "READONLY", "MASTERDOWN", "LOADING", "TRYAGAIN")
# Replies that refuse this client (a password, an ACL, protected mode): the deployment's
# state, not the record's, so the same as a refused connection, and only an operator can
# fix it. Each maps to what the operator must do, said once in the log.
_REFUSALS = {
    "NOAUTH": "the Redis server requires a password: give it in INGEST_REDIS_URL "
    "(redis://:PASSWORD@host:6379/0, or redis://USER:PASSWORD@... for an ACL user)",
    "WRONGPASS": "Redis refused the user or password in INGEST_REDIS_URL (or the ACL user "
    "is disabled): correct the URL or the server's ACL",
    "NOPERM": "the Redis ACL user in INGEST_REDIS_URL lacks a permission: allow it "
    "+evalsha +script|load +ping +set and, for the scripts, +get +set +del +exists +hget +hset "
    "+expireat +time on the keys ~<INGEST_REDIS_KEY_PREFIX>*",
    "DENIED": "Redis is in protected mode and refuses clients from other hosts: set a "
    "password (requirepass or an ACL user) and put it in INGEST_REDIS_URL, or, on a "
    "private network, start the server with --protected-mode no",
}
_HEADER = struct.Struct("<BI16sH")  # format, shingle count, exact hash, doc id length
log = get_logger(__name__)

HOLD_S = 300  # a reservation blocks other workers' copies at most this long (crash)
MAX_VERSIONS = 8  # versions kept per page: a replay of an older one is a recrawl

# ARGV: 1 prefix, 2 ref (this version's record key), 3 record, 4 ttl_s, 5 epoch_s, 6 cap,
# 7 page key, 8 origin, 9 raw hash, 10 content hash, 11 owner, 12 hold_s, 13 own cluster,
# 14 decided (the caller's duplicate verdict as JSON, "" for none), 15 the page's latest
# version it judged against, 16 expected refs, 17 fetch time ("" unknown), 18 race window,
# 19 and 20 the canonical's page key and ref for a takeover ("" none), 21 the doc id, then
# (bucket, field) pairs.
# Returns {0, entry} (a replay), {1, entry} (stored, reserved), {3, entry} (unchanged: the
# latest entry), {4} (the page's latest version is reserved by another worker),
# {5, entry, kept output} (stored, reserved, taking the canonical's place; a replay of
# such a version is {0, entry, kept output}) or
# {2, latest version, ref, record, held, cluster, ...} (the live candidates, whether another
# worker holds each and a taken-over cluster id, or ""; nothing written).
CHECK_AND_INSERT = """
local prefix, own = ARGV[1], ARGV[2]
local ttl, ep, cap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local origin, owner, hold = ARGV[8], ARGV[11], tonumber(ARGV[12])
local now = tonumber(redis.call('TIME')[1])
local function raw(h)
  return (h:gsub('..', function(c) return string.char(tonumber(c, 16)) end))
end
local function hex(b)
  return (b:gsub('.', function(c) return string.format('%02x', c:byte()) end))
end
local pkey = prefix .. 'p:' .. ARGV[7]
local state = redis.call('GET', pkey)
local entries = state and cjson.decode(state) or {}
for _, e in ipairs(entries) do
  if e.o == origin then
    if e.w and e.w ~= owner then
      e.w, e.x = owner, now + hold
      redis.call('SET', pkey, cjson.encode(entries), 'KEEPTTL')
      if e.r then redis.call('SET', prefix .. 'w:' .. own, owner, 'EX', hold) end
    end
    if e.t then return {0, cjson.encode(e), redis.call('GET', prefix .. 'o:' .. raw(e.tr))} end
    return {0, cjson.encode(e)}
  end
end
local latest = entries[#entries]
if latest and latest.w and latest.w ~= owner and latest.x > now then return {4} end
if latest and latest.h == ARGV[9] then return {3, cjson.encode(latest)} end
local cur = math.floor(now / ep)
local bases = {}
for e = math.floor((now - ttl) / ep), cur do bases[#bases + 1] = prefix .. 'b:' .. e .. ':' end
local seen, live, out, n_live, current = {}, {}, {}, 0, {}
for i = FIRST_PAIR, #ARGV, 2 do
  local bucket, field, list = ARGV[i], ARGV[i + 1], nil
  for k = 1, #bases do
    local v = redis.call('HGET', bases[k] .. bucket, field)
    if v then list = list and (list .. v) or v end
    if k == #bases then current[i] = v end
  end
  if list then
    local n = #list / 8
    for j = math.max(1, n - cap + 1), n do
      local ref = string.sub(list, j * 8 - 7, j * 8)
      if not seen[ref] then
        seen[ref] = true
        local r = redis.call('GET', prefix .. 'r:' .. ref)
        if r and redis.call('EXISTS', prefix .. 'n:' .. ref) == 0 then
          local w = redis.call('GET', prefix .. 'w:' .. ref)
          live[ref] = true
          n_live = n_live + 1
          out[#out + 1] = ref
          out[#out + 1] = r
          out[#out + 1] = (w and w ~= owner) and 1 or 0
          out[#out + 1] = redis.call('GET', prefix .. 'k:' .. ref) or ''
        end
      end
    end
  end
end
local latest_v = latest and latest.v or 0
local expected, judged = ARGV[16], 0
for j = 1, #expected / 8 do
  if live[string.sub(expected, j * 8 - 7, j * 8)] then judged = judged + 1 end
end
if judged ~= n_live or n_live ~= #expected / 8 or latest_v ~= tonumber(ARGV[15]) then
  table.insert(out, 1, latest_v)
  table.insert(out, 1, 2)
  return out
end
local e = {o = origin, h = ARGV[9], c = ARGV[10], v = latest_v + 1, w = owner, x = now + hold}
if latest then e.p = latest.c end
local kept, cluster = nil, ARGV[13]
if ARGV[14] ~= '' and ARGV[19] ~= '' and ARGV[17] ~= '' and not latest then
  local ckey = prefix .. 'p:' .. ARGV[19]
  local cstate = redis.call('GET', ckey)
  local ce = cstate and cjson.decode(cstate) or {}
  local c = ce[1]
  if #ce == 1 and c.s == 'new' and c.r and not c.w and c.f and c.a
      and tonumber(ARGV[17]) < c.f and now - c.a <= tonumber(ARGV[18]) then
    kept = redis.call('GET', prefix .. 'o:' .. ARGV[20])
  end
  if kept then
    local d = cjson.decode(ARGV[14])
    c.s, c.d, c.m = d.s, ARGV[21], d.m
    redis.call('SET', ckey, cjson.encode(ce), 'KEEPTTL')
    redis.call('SET', prefix .. 'n:' .. ARGV[20], 1, 'EX', ttl)
    redis.call('SET', prefix .. 'k:' .. own, c.k, 'EX', ttl)
    e.t, e.tr, e.td, e.ts, e.tm = hex(ARGV[19]), hex(ARGV[20]), d.d, d.s, d.m
    cluster = c.k
  end
end
if ARGV[14] ~= '' and not kept then
  local d = cjson.decode(ARGV[14])
  e.s, e.k, e.d, e.m = d.s, d.k, d.d, d.m
else
  e.s, e.k, e.r = latest and 'updated' or 'new', cluster, 1
  if ARGV[17] ~= '' then e.f = tonumber(ARGV[17]) end
  e.a = now
  redis.call('SET', prefix .. 'r:' .. own, ARGV[3], 'EX', ttl)
  redis.call('SET', prefix .. 'w:' .. own, owner, 'EX', hold)
  local expire_at = (cur + 1) * ep + ttl
  for i = FIRST_PAIR, #ARGV, 2 do
    local key = bases[#bases] .. ARGV[i]
    local v = (current[i] or '') .. own
    if #v > cap * 8 then v = string.sub(v, -cap * 8) end
    redis.call('HSET', key, ARGV[i + 1], v)
    redis.call('EXPIREAT', key, expire_at)
  end
end
entries[#entries + 1] = e
if #entries > MAX_VERSIONS then table.remove(entries, 1) end
redis.call('SET', pkey, cjson.encode(entries), 'EX', ttl)
if kept then return {5, cjson.encode(e), kept} end
return {1, cjson.encode(e)}
""".replace("MAX_VERSIONS", str(MAX_VERSIONS)).replace("FIRST_PAIR", "22")

# ARGV: prefix, owner, then (page key, origin, ref) triples. Confirm: the entries stay,
# no longer reserved. Release: the entries (and their records) go, as if never stored.
SETTLE = """
local prefix, owner, release = ARGV[1], ARGV[2], ARGV[3] == '1'
local function raw(h) return (h:gsub('..', function(c) return string.char(tonumber(c, 16)) end)) end
local function restore(page, ref, own)
  local ckey = prefix .. 'p:' .. raw(page)
  local cstate = redis.call('GET', ckey)
  if cstate then
    local ce = cjson.decode(cstate)
    if ce[1] then ce[1].s, ce[1].d, ce[1].m = 'new', nil, nil end
    redis.call('SET', ckey, cjson.encode(ce), 'KEEPTTL')
  end
  redis.call('DEL', prefix .. 'n:' .. raw(ref), prefix .. 'k:' .. own)
end
for i = 4, #ARGV, 3 do
  local pkey = prefix .. 'p:' .. ARGV[i]
  local state = redis.call('GET', pkey)
  if state then
    local entries, kept, changed = cjson.decode(state), {}, false
    for _, e in ipairs(entries) do
      if e.o == ARGV[i + 1] and e.w == owner then
        changed = true
        redis.call('DEL', prefix .. 'w:' .. ARGV[i + 2])
        if release then
          if e.r then redis.call('DEL', prefix .. 'r:' .. ARGV[i + 2]) end
          if e.t then restore(e.t, e.tr, ARGV[i + 2]) end
        else
          e.w, e.x = nil, nil
          kept[#kept + 1] = e
        end
      else
        kept[#kept + 1] = e
      end
    end
    if changed and #kept == 0 then
      redis.call('DEL', pkey)
    elseif changed then
      redis.call('SET', pkey, cjson.encode(kept), 'KEEPTTL')
    end
  end
end
return 1
"""


def encode_record(doc_id: str, sketch: Sketch) -> bytes:
    raw_id = doc_id.encode("utf-8", "surrogatepass")
    header = _HEADER.pack(FORMAT, sketch.size, sketch.exact, len(raw_id))
    return header + raw_id + pack_sample(sketch.sample)


def decode_record(blob: bytes) -> Candidate:
    fmt, size, exact, id_len = _HEADER.unpack_from(blob)
    if fmt != FORMAT:
        raise ValueError(f"dedup record of format {fmt}, expected {FORMAT}")
    start = _HEADER.size + id_len
    doc_id = blob[_HEADER.size : start].decode("utf-8", "surrogatepass")
    sample = unpack_sample(blob[start:])
    return Candidate(doc_id, Sketch(exact=exact, size=size, sample=sample))


class RedisDeduper:
    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = KEY_PREFIX,
        ttl_s: int = int(WINDOW_S),
        bucket_bits: int = BUCKET_BITS,
        thresholds: Thresholds | None = None,
        hold_s: int = HOLD_S,
        race_window_s: float = race.WINDOW_S,
    ) -> None:
        """``bucket_bits``: 2**bits hashes per epoch; size it so that each holds about
        100 entries, i.e. 2**bits ~ canonical texts per epoch * 33 / 100 (16 bits:
        ~200k canonicals per epoch), so that Redis keeps them as listpacks. ``hold_s``:
        how long a reservation never settled (a crashed worker's) makes copies wait."""
        self.prefix = key_prefix
        self.ttl_s = int(ttl_s)
        self.epoch_s = max(1, self.ttl_s // EPOCHS_PER_TTL)
        self.bucket_shift = 64 - bucket_bits
        self.thresholds = thresholds or Thresholds()
        self._client = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
        )
        self._script = self._client.register_script(CHECK_AND_INSERT)
        self._settle = self._client.register_script(SETTLE)
        self._sketcher = Sketcher()
        self.hold_s = max(1, min(int(hold_s), self.ttl_s))  # never outlives what it holds
        self.race_window_s = max(0.0, float(race_window_s))  # 0: the race rule is off
        self.owner = uuid.uuid4().hex  # whose reservations are whose
        self._refused = ""  # the refusal last logged; cleared once the server answers

    def check(
        self,
        doc_id: str,
        text: str,
        tokens: np.ndarray | None = None,
        sighting: Sighting | None = None,
    ) -> DedupVerdict:
        """``tokens``: the text's ``Sketcher.token_hashes``, when computed elsewhere;
        ``sighting``: the record's origin and hashes (default: ``pages.default_sighting``).
        A new version is stored at once, reserved: ``confirm`` or ``release`` it. A copy
        whose canonical another worker holds reserved waits (``TransientError``: retried)
        rather than name a canonical that may never be published."""
        seen = sighting or pages.default_sighting(doc_id, text)
        sketch = self._sketcher.sketch(text, tokens)
        args, pairs = self.script_args(doc_id, sketch, seen)
        fetched = b"" if seen.fetched_at is None else repr(float(seen.fetched_at)).encode()
        decided, latest, expected = b"", 0, b""  # first call: insert if nothing to judge
        target: tuple[bytes, bytes] = (b"", b"")  # the canonical a takeover would demote
        for _ in range(MAX_ATTEMPTS):
            race_args = [fetched, self.race_window_s, *target, doc_id]
            reply = self.call([*args, decided, latest, expected, *race_args, *pairs])
            code = reply[0]
            if code in (0, 1, 5):  # a replay, or stored (5: taking the canonical's place)
                entry = orjson.loads(reply[1])
                verdict = _verdict(entry)
                correction = None
                if len(reply) > 2 and reply[2]:  # a takeover (or its replay): correct
                    topic, value = unpack_output(reply[2])
                    correction = Correction(entry["td"], topic, value, entry["ts"], entry.get("tm"))
                reserved = Reservation(doc_id, seen.origin)
                return replace(verdict, reservation=reserved, correction=correction)
            if code == 3:
                entry = orjson.loads(reply[1])
                return pages.unchanged(entry["k"], entry["v"], entry["c"])
            if code == 4:
                raise TransientError("dedup: another worker is publishing this page")
            latest = reply[1]
            refs, blobs, held, clusters = reply[2::4], reply[3::4], reply[4::4], reply[5::4]
            found = [decode_record(b) for b in blobs]
            others = [c for c in found if c.doc_id != doc_id]  # never a copy of itself
            verdict = decide(sketch, others, self.thresholds)
            target = (b"", b"")
            if verdict is not None:
                best = (verdict.duplicate_of, verdict.cluster_id)
                matched = [
                    (ref, h, k)
                    for ref, c, h, k in zip(refs, found, held, clusters, strict=True)
                    if (c.doc_id, cluster_of(c.sketch)) == best
                ]
                if any(h for _, h, _ in matched):
                    raise TransientError("dedup: the canonical is not yet published")
                ref, _, taken = matched[0]
                cluster = taken.decode() if taken else verdict.cluster_id
                if int(latest) == 0 and fetched and self.race_window_s > 0:
                    target = (_key(verdict.duplicate_of or ""), ref)
                decided = orjson.dumps(
                    {
                        "s": verdict.status,
                        "k": cluster,
                        "d": verdict.duplicate_of,
                        "m": None if verdict.similarity is None else float(verdict.similarity),
                    }
                )
            else:
                decided = b""
            expected = b"".join(refs)  # judged against exactly these
        raise TransientError("dedup index kept changing under concurrent inserts")

    def keep_output(self, reservation: Reservation, topic: str | None, value: bytes) -> None:
        """The output a verdict ``new`` is published with, kept for the race window."""
        if self.race_window_s <= 0:
            return
        key = self.prefix.encode() + b"o:" + _ref(reservation.doc_id, reservation.origin)
        blob = pack_output(topic, value)
        try:
            self._client.set(key, blob, ex=max(1, math.ceil(self.race_window_s)))
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError) as exc:
            raise TransientError(f"redis: {exc}") from exc

    def confirm(self, reservations: list[Reservation]) -> None:
        """Their outputs were published: the versions stay, no longer reserved."""
        self._settle_all(reservations, release=False)

    def release(self, reservations: list[Reservation]) -> None:
        """Their outputs were not published: the versions go, as if never checked."""
        self._settle_all(reservations, release=True)

    def _settle_all(self, reservations: list[Reservation], *, release: bool) -> None:
        if not reservations:
            return
        args: list = [self.prefix, self.owner, b"1" if release else b"0"]
        for r in reservations:
            args += [_key(r.doc_id), _origin(r.origin), _ref(r.doc_id, r.origin)]
        self.call(args, self._settle)

    def script_args(
        self, doc_id: str, sketch: Sketch, seen: Sighting | None = None
    ) -> tuple[list, list]:
        """The script's arguments before ``decided`` and after ``expected``."""
        seen = seen or pages.default_sighting(doc_id, "")
        args = [self.prefix, _ref(doc_id, seen.origin), encode_record(doc_id, sketch)]
        args += [self.ttl_s, self.epoch_s, MAX_PER_KEY, _key(doc_id), _origin(seen.origin)]
        args += [seen.raw_hash, seen.content_hash, self.owner, self.hold_s, cluster_of(sketch)]
        pairs = []
        for key in sketch.keys.tolist():
            pairs += [str(key >> self.bucket_shift), key.to_bytes(8, "little")]
        return args, pairs

    def close(self) -> None:
        self._client.close()

    def call(self, args: list, script: Script | None = None) -> list:
        """One run of the script (``script``: another of ours); an unavailable, full or
        refusing server is a transient error (the batch waits), never the record's fault."""
        try:
            reply = (script or self._script)(args=args)
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError) as exc:
            refusal = refusal_of(exc)
            if refusal:
                self._log_refusal(refusal)
            elif isinstance(exc, redis.ResponseError) and not str(exc).startswith(
                _TRANSIENT_REPLIES
            ):
                raise
            raise TransientError(f"redis: {exc}") from exc
        self._refused = ""
        return reply

    def _log_refusal(self, refusal: str) -> None:
        if refusal != self._refused:  # one line per refusal, not one per retry
            self._refused = refusal
            log.error("dedup_store_refused", reply=refusal, fix=_REFUSALS[refusal])


def refusal_of(exc: Exception) -> str:
    """The refusal reply (``NOAUTH``, ``WRONGPASS``, ``NOPERM``, ``DENIED``) behind an
    error, or "". redis-py raises some as ``AuthenticationError`` (a ``ConnectionError``),
    ``NoPermissionError``, or a plain ``ResponseError``/``ConnectionError`` by message."""
    text = str(exc).lstrip("-")
    code = text.split(" ", 1)[0].upper()
    if code in _REFUSALS:
        return code
    if isinstance(exc, redis.AuthenticationError):
        return "WRONGPASS" if "invalid" in text.lower() else "NOAUTH"
    if isinstance(exc, redis.exceptions.NoPermissionError):
        return "NOPERM"
    if "protected mode" in text.lower():
        return "DENIED"
    return ""


def _key(doc_id: str) -> bytes:
    """A page's key: the 8 bytes of its doc key."""
    return doc_key(doc_id).to_bytes(8, "little")


def _ref(doc_id: str, origin: str) -> bytes:
    """The key of one version's record: each version of a page is a canonical of its own."""
    return doc_key(f"{doc_id}\x00{origin}").to_bytes(8, "little")


def _origin(origin: str) -> str:
    """What a page's entry keeps of an origin: a hash, any text in, hex out (JSON-safe)."""
    raw = origin.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


def _verdict(entry: dict) -> DedupVerdict:
    """A page entry's verdict (what the version was published with)."""
    return DedupVerdict(
        entry["s"],
        entry["k"],
        entry.get("d") or None,
        entry.get("m"),
        int(entry["v"]),
        entry.get("p") or None,
    )
