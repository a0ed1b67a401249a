"""The shared index in Redis: every worker checks and inserts atomically.

Layout (``P`` = key prefix; every key has a TTL):

* ``P r:<doc key>`` (8 raw bytes, the hash of the doc id): one canonical text's
  record (doc id, exact hash, shingle count, shingle sample, ~0.8 KB), ``EX
  ttl_s``; its existence is what replays find.
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

One Lua script does check-and-insert: it reads the candidates and, when they
are exactly the set the caller already judged (none, on the first call),
inserts the text in the same atomic step. Otherwise it returns the candidates;
the caller decides with ``verify.decide`` (the same code as the in-process
index) and, for a new text, calls again with the set it judged. A concurrent
insert of a copy changes that set, so the second worker sees the first one's
copy instead of publishing the story twice.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import redis

from worker.dedup.minhash import FORMAT, Sketch, Sketcher, doc_key, pack_sample, unpack_sample
from worker.dedup.verify import MAX_PER_KEY, Candidate, Thresholds, cluster_of, decide
from worker.logs import get_logger
from worker.records import DedupVerdict, TransientError

if TYPE_CHECKING:
    import numpy as np

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
    "+evalsha +script|load +ping and, for the script, +get +set +hget +hset +expireat "
    "+time on the keys ~<INGEST_REDIS_KEY_PREFIX>*",
    "DENIED": "Redis is in protected mode and refuses clients from other hosts: set a "
    "password (requirepass or an ACL user) and put it in INGEST_REDIS_URL, or, on a "
    "private network, start the server with --protected-mode no",
}
_HEADER = struct.Struct("<BI16sH")  # format, shingle count, exact hash, doc id length
log = get_logger(__name__)

# ARGV: prefix, own doc key, record, ttl_s, epoch_s, cap, expected refs, then
# (bucket, field) pairs. Returns {0, record} (a replay), {1} (inserted) or
# {2, ref, record, ...} (the live candidates; nothing written).
CHECK_AND_INSERT = """
local prefix, own = ARGV[1], ARGV[2]
local rec = redis.call('GET', prefix .. 'r:' .. own)
if rec then return {0, rec} end
local ttl, ep, cap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local now = tonumber(redis.call('TIME')[1])
local cur = math.floor(now / ep)
local bases = {}
for e = math.floor((now - ttl) / ep), cur do bases[#bases + 1] = prefix .. 'b:' .. e .. ':' end
local seen, live, out, n_live, current = {}, {}, {}, 0, {}
for i = 8, #ARGV, 2 do
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
        if r then
          live[ref] = true
          n_live = n_live + 1
          out[#out + 1] = ref
          out[#out + 1] = r
        end
      end
    end
  end
end
local expected, judged = ARGV[7], 0
for j = 1, #expected / 8 do
  if live[string.sub(expected, j * 8 - 7, j * 8)] then judged = judged + 1 end
end
if judged ~= n_live or n_live ~= #expected / 8 then
  table.insert(out, 1, 2)
  return out
end
redis.call('SET', prefix .. 'r:' .. own, ARGV[3], 'EX', ttl)
local expire_at = (cur + 1) * ep + ttl
for i = 8, #ARGV, 2 do
  local key = bases[#bases] .. ARGV[i]
  local v = (current[i] or '') .. own
  if #v > cap * 8 then v = string.sub(v, -cap * 8) end
  redis.call('HSET', key, ARGV[i + 1], v)
  redis.call('EXPIREAT', key, expire_at)
end
return {1}
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
        key_prefix: str = "ingest:dedup:",
        ttl_s: int = 7 * 86400,
        bucket_bits: int = 16,
        thresholds: Thresholds | None = None,
    ) -> None:
        """``bucket_bits``: 2**bits hashes per epoch; size it so that each holds about
        100 entries, i.e. 2**bits ~ canonical texts per epoch * 33 / 100 (16 bits:
        ~200k canonicals per epoch), so that Redis keeps them as listpacks."""
        self.prefix = key_prefix
        self.ttl_s = int(ttl_s)
        self.epoch_s = max(1, self.ttl_s // EPOCHS_PER_TTL)
        self.bucket_shift = 64 - bucket_bits
        self.thresholds = thresholds or Thresholds()
        self._client = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
        )
        self._script = self._client.register_script(CHECK_AND_INSERT)
        self._sketcher = Sketcher()
        self._refused = ""  # the refusal last logged; cleared once the server answers

    def check(self, doc_id: str, text: str, tokens: np.ndarray | None = None) -> DedupVerdict:
        """``tokens``: the text's ``Sketcher.token_hashes``, when computed elsewhere."""
        sketch = self._sketcher.sketch(text, tokens)
        args, pairs = self.script_args(doc_id, sketch)
        expected = b""  # first call: insert only if there is no candidate at all
        for _ in range(MAX_ATTEMPTS):
            reply = self.call([*args, expected, *pairs])
            if reply[0] == 0:  # a replay: the same article, never its own copy
                return DedupVerdict("new", cluster_of(decode_record(reply[1]).sketch))
            if reply[0] == 1:
                return DedupVerdict("new", cluster_of(sketch))
            refs, blobs = reply[1::2], reply[2::2]
            verdict = decide(sketch, [decode_record(b) for b in blobs], self.thresholds)
            if verdict is not None:
                return verdict
            expected = b"".join(refs)  # judged new against exactly these
        raise TransientError("dedup index kept changing under concurrent inserts")

    def script_args(self, doc_id: str, sketch: Sketch) -> tuple[list, list]:
        """The script's arguments before and after ``expected``."""
        own = doc_key(doc_id).to_bytes(8, "little")
        args = [self.prefix, own, encode_record(doc_id, sketch)]
        args += [self.ttl_s, self.epoch_s, MAX_PER_KEY]
        pairs = []
        for key in sketch.keys.tolist():
            pairs += [str(key >> self.bucket_shift), key.to_bytes(8, "little")]
        return args, pairs

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        self._client.close()

    def call(self, args: list) -> list:
        """One run of the script; an unavailable, full or refusing server is a transient
        error (the batch waits), never the record's fault."""
        try:
            reply = self._script(args=args)
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
