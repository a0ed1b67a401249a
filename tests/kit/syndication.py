"""A syndication stream in one language, for dedupe in scripts other than English: the
generator ``bench.multilingual_syndication`` runs (see its docstring for the stream)."""

from __future__ import annotations

import argparse
import html
import math
import random
import re
from datetime import UTC, datetime, timedelta

from worker.textunits import UNSPACED_CLASS, count_words

# Written for this generator, one set per language: what copies add around a story.
PHRASES: dict[str, dict[str, list[str]]] = {
    "zh": {
        "more": ["阅读全文请访问原网站", "（未完）", "点击查看全文", "更多内容请见原文链接"],
        "credit": [
            "新华社电",
            "（记者 王明 报道）",
            "据中新社报道",
            "来源：人民网",
            "（央视新闻）",
        ],
        "boiler": ["广告", "相关阅读", "责任编辑：李华", "扫码关注我们的公众号", "分享到："],
        "notice": ["本文转载自合作媒体，版权归原作者所有。", "如有侵权请联系删除。"],
    },
    "ja": {
        "more": [
            "続きは元のサイトでお読みください",
            "（続く）",
            "全文を読む",
            "この記事の続きを見る",
        ],
        "credit": ["【共同】", "（時事通信）", "【ワシントン＝山田太郎】", "（ロイター）"],
        "boiler": ["広告", "関連記事", "この記事をシェアする", "写真：", "おすすめ記事"],
        "notice": ["本記事は配信元の許可を得て転載しています。", "無断転載を禁じます。"],
    },
    "ko": {
        "more": ["기사 전문은 원문 사이트에서 확인하세요", "(계속)", "전체 기사 보기"],
        "credit": ["(서울=연합뉴스)", "김민수 기자", "(뉴시스)", "[로이터=연합뉴스]"],
        "boiler": ["광고", "관련 기사", "공유하기", "많이 본 뉴스", "구독하기"],
        "notice": ["무단 전재 및 재배포 금지.", "이 기사는 제휴 언론사의 기사입니다."],
    },
    "th": {
        "more": ["อ่านข่าวฉบับเต็มได้ที่เว็บไซต์ต้นฉบับ", "อ่านต่อ", "คลิกอ่านรายละเอียดทั้งหมด"],
        "credit": ["(สำนักข่าวไทย)", "ผู้สื่อข่าวรายงานว่า", "(รอยเตอร์)", "ที่มา: ไทยพีบีเอส"],
        "boiler": ["โฆษณา", "ข่าวที่เกี่ยวข้อง", "แชร์ข่าวนี้", "ติดตามเราได้ที่"],
        "notice": ["ขอบคุณข้อมูลจากแหล่งข่าวต้นฉบับ", "ห้ามคัดลอกโดยไม่ได้รับอนุญาต"],
    },
    "ar": {
        "more": ["اقرأ المقال كاملاً على الموقع الأصلي", "(يتبع)", "للمزيد اضغط هنا"],
        "credit": ["(رويترز)", "(أ ف ب)", "القاهرة - وكالات", "بقلم: أحمد علي"],
        "boiler": ["إعلان", "اقرأ أيضاً", "شارك هذا الخبر", "الأكثر قراءة"],
        "notice": ["جميع الحقوق محفوظة.", "نُشر هذا المقال بالتعاون مع شريكنا الإعلامي."],
    },
    "ru": {
        "more": ["Читайте полностью на сайте источника", "(продолжение следует)", "Подробнее"],
        "credit": ["(РИА Новости)", "МОСКВА, 12 марта — ТАСС.", "Интерфакс:", "Автор: Иван Петров"],
        "boiler": ["Реклама", "Читайте также", "Поделиться", "Популярное"],
        "notice": ["При перепечатке ссылка на источник обязательна.", "Все права защищены."],
    },
    "fr": {
        "more": ["Lire la suite sur le site d'origine", "(à suivre)", "Lire l'article complet"],
        "credit": ["(AFP)", "PARIS (Reuters) -", "Par Marie Dupont", "Avec AFP"],
        "boiler": ["Publicité", "À lire aussi", "Partager", "Les plus lus"],
        "notice": ["Tous droits réservés.", "Cet article est republié avec autorisation."],
    },
    "en": {
        "more": ["Read the full story on the original site", "(Continued)", "Continue reading"],
        "credit": ["(AP)", "LONDON (Reuters) -", "By Jane Doe", "With AFP"],
        "boiler": ["Advertisement", "Related stories", "Share this", "Most read"],
        "notice": ["All rights reserved.", "This article is republished with permission."],
    },
}
FOLLOWUP_INTRO = {
    "zh": "此前报道：",
    "ja": "既報の通り、",
    "ko": "앞서 보도한 바와 같이,",
    "th": "ตามที่รายงานไปก่อนหน้านี้",
    "ar": "كما ذكرنا سابقاً،",
    "ru": "Как сообщалось ранее,",
    "fr": "Comme nous l'avons rapporté,",
    "en": "As previously reported,",
}
_UNSPACED = re.compile(f"[{UNSPACED_CLASS}]")
_WORD = re.compile(r"\w+")
_FULLWIDTH = {ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789,!?:;()"}
_HALFWIDTH = {ord(c): h for c, h in zip("，！？：；（）", ",!?:;()", strict=True)}


class Generator:
    def __init__(self, articles: list[dict], lang: str, args: argparse.Namespace) -> None:
        self.rng = random.Random(args.seed)
        self.lang, self.args = lang, args
        self.phrases = PHRASES.get(lang, PHRASES["en"])
        self.paras: list[str] = []
        self.real: list[list[int]] = []  # stories as paragraph ids
        reference = []
        for art in articles:
            if art["kind"] == "reference":
                reference.extend(art["paragraphs"])
                continue
            first = len(self.paras)
            self.paras.extend(art["paragraphs"])
            self.real.append(list(range(first, len(self.paras))))
        self.pwords = [count_words(p) for p in self.paras]
        self.rng.shuffle(self.real)
        if not reference:  # no reference documents: a few articles' paragraphs stand in
            reference = [self.paras[p] for pids in self.real[:8] for p in pids]
            del self.real[:8]
        self.reference = reference
        self.unspaced = bool(_UNSPACED.search("".join(self.paras[:20])))
        self.stories: list[set[int]] = []
        self.docs: list[dict] = []
        self.normals: list[dict] = []
        self.footers: list[tuple[str, str, set[int]]] = []  # outlet, footer, its stories
        self.next_cluster = 0

    # --- stories ---------------------------------------------------------------------------

    def _words(self, pids: list[int]) -> int:
        return sum(self.pwords[p] for p in pids)

    def _fits(self, pids: list[int], cap: float) -> bool:
        """At most ``cap`` of the smaller story's words shared with any story."""
        mine = set(pids)
        for other in self.stories:
            shared = mine & other
            if shared:
                small = min(self._words(pids), self._words(list(other)))
                if self._words(list(shared)) > cap * small:
                    return False
        return True

    def new_story(
        self, min_words: int = 0, exclude: frozenset[int] = frozenset()
    ) -> tuple[list[int], str] | None:
        """The next real article, then mosaics; none of the ``exclude`` paragraphs."""
        for i in range(len(self.real) - 1, -1, -1):
            pids = self.real[i]
            if self._words(pids) >= min_words:
                del self.real[i]
                self.stories.append(set(pids))
                return pids, "real"
        cap = self.args.max_overlap
        exclude = exclude.union(*self.real)  # real articles not used yet stay whole
        mean = sum(self.pwords) / len(self.pwords)
        for _ in range(200):
            n = max(self.rng.randint(4, 7), math.ceil(min_words / mean))
            pids = self.rng.sample(range(len(self.paras)), n)
            if exclude.intersection(pids):
                continue
            if self._words(pids) >= max(min_words, 120) and self._fits(pids, cap):
                self.stories.append(set(pids))
                return pids, "mosaic"
        return None

    # --- copies ----------------------------------------------------------------------------

    def _edit_words(self, para: str) -> str:
        """Replace a word (in unspaced scripts: two characters) by one from another story."""
        rng = self.rng
        donor = self.paras[rng.randrange(len(self.paras))]
        if self.unspaced:
            runs = [m for m in re.finditer(f"[{UNSPACED_CLASS}]{{2}}", para)]
            donors = re.findall(f"[{UNSPACED_CLASS}]{{2}}", donor)
            if not runs or not donors:
                return para
            m = rng.choice(runs)
            return para[: m.start()] + rng.choice(donors) + para[m.end() :]
        words = list(_WORD.finditer(para))
        donors = _WORD.findall(donor)
        if not words or not donors:
            return para
        m = rng.choice(words)
        return para[: m.start()] + rng.choice(donors) + para[m.end() :]

    def _typography(self, text: str, ops: list[str]) -> str:
        rng = self.rng
        choice = rng.randrange(6)
        if choice == 0:
            text = text.replace(" ", "\u00a0", rng.randint(1, 5))
        elif choice == 1:
            chars = list(text)
            for _ in range(rng.randint(1, 4)):
                chars.insert(rng.randrange(len(chars) + 1), "\u200b")
            text = "".join(chars)
        elif choice == 2:
            text = html.escape(text, quote=True)
        elif choice == 3:
            text = text.translate(_FULLWIDTH if rng.random() < 0.5 else _HALFWIDTH)
        elif choice == 4:
            text = "\n".join(self._wrap(line) for line in text.split("\n"))
        else:
            text = text.replace("\n\n", "\n")
        ops.append(f"typography{choice}")
        return text

    def _wrap(self, line: str) -> str:
        """Hard wraps: Chinese and Japanese anywhere after 38 characters, other scripts
        (Thai included: it wraps between words) at the last space before 70."""
        if self.unspaced and self.lang != "th":
            return "\n".join(line[i : i + 38] for i in range(0, len(line), 38)) or line
        out, current = [], ""
        for word in line.split(" "):
            if current and len(current) + 1 + len(word) > 70:
                out.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        return "\n".join([*out, current])

    def make_copy(self, pids: list[int]) -> tuple[str, list[str], float]:
        rng, ph = self.rng, self.phrases
        paras = [self.paras[p] for p in pids]
        ops: list[str] = []
        total = self._words(pids)
        kept = 1.0
        if rng.random() < self.args.p_verbatim:
            return "\n\n".join(paras) + "\n", ["verbatim"], 1.0
        if len(paras) >= 2 and rng.random() < self.args.p_truncate:
            cut = max(1, int(len(paras) * rng.uniform(0.4, 0.9)))
            while cut < len(paras) and sum(count_words(p) for p in paras[:cut]) < 0.5 * total:
                cut += 1
            if cut < len(paras):
                kept = sum(count_words(p) for p in paras[:cut]) / total
                paras = paras[:cut]
                ops.append("truncate")
                if rng.random() < 0.8:
                    paras.append(rng.choice(ph["more"]))
                    ops.append("read_more")
        n_edits = sum(rng.random() < 0.5 for _ in range(max(1, total // 60)))
        for _ in range(n_edits):
            i = rng.randrange(len(paras))
            paras[i] = self._edit_words(paras[i])
        if n_edits:
            ops.append(f"edit{n_edits}")
        if len(paras) >= 3 and rng.random() < 0.15:
            i = rng.randrange(1, len(paras) - 1)
            paras[i], paras[i + 1] = paras[i + 1], paras[i]
            ops.append("swap")
        if rng.random() < 0.3:
            paras.insert(rng.randint(1, len(paras)), rng.choice(ph["boiler"]))
            ops.append("boilerplate")
        if rng.random() < 0.5:
            sep = "" if self.unspaced and self.lang != "th" else " "
            paras[0] = rng.choice(ph["credit"]) + sep + paras[0]
            ops.append("credit")
        if rng.random() < 0.4:
            paras.append(rng.choice(ph["notice"]))
            ops.append("notice")
        text = "\n\n".join(paras)
        if rng.random() < 0.7:
            text = self._typography(text, ops)
        return text, ops, kept

    # --- clusters --------------------------------------------------------------------------

    def _size(self) -> int:
        if self.rng.random() < self.args.p_singleton:
            return 1
        weights = [k**-self.args.size_alpha for k in range(2, self.args.max_cluster + 1)]
        return self.rng.choices(range(2, self.args.max_cluster + 1), weights)[0]

    def _delay(self) -> float:
        return min(240.0, math.exp(self.rng.gauss(math.log(3.0), 1.2)))

    def _emit(self, cluster: int, t: float, text: str, meta: dict) -> None:
        self.docs.append({"cluster": f"s{cluster:06d}", "_t": t, "text": text, "meta": meta})

    def _cluster(self, pids, t0, story_kind, hn=None, original=None, extra=None) -> int:
        cluster, self.next_cluster = self.next_cluster, self.next_cluster + 1
        size = self._size()
        base = {"story_kind": story_kind, **({"hn": hn} if hn else {}), **(extra or {})}
        if original is not None or self.rng.random() < self.args.p_original:
            text = original or "\n\n".join(self.paras[p] for p in pids)
            self._emit(cluster, t0, text, {"kind": "original", "ops": [], "kept": 1.0, **base})
            size -= 1
        for _ in range(size):
            text, ops, kept = self.make_copy(pids)
            meta = {"kind": "copy", "ops": ops, "kept": round(kept, 3), **base}
            self._emit(cluster, t0 + self._delay(), text, meta)
        return cluster

    def gen_normal(self, t0: float) -> bool:
        story = self.new_story()
        if story is None:
            return False
        pids, kind = story
        self._cluster(pids, t0, kind)
        self.normals.append({"pids": pids, "t0": t0})
        return True

    def gen_footer(self, t0: float) -> bool:
        rng = self.rng
        if not self.footers or (len(self.footers) < 6 and rng.random() < 0.2):
            fitting = [r for r in self.reference if 30 <= count_words(r) <= 70]
            outlet = f"outlet{len(self.footers)}"
            self.footers.append((outlet, rng.choice(fitting or self.reference), set()))
        outlet, footer, used = rng.choice(self.footers)
        # the footer is at most 45 % of the text; the outlet's stories share nothing else
        story = self.new_story(int(1.25 * count_words(footer)), frozenset(used))
        if story is None:
            return False
        pids, kind = story
        used.update(pids)
        original = "\n\n".join(self.paras[p] for p in pids) + "\n\n" + footer
        self._cluster(pids, t0, kind, "footer", original, {"footer_outlet": outlet})
        return True

    def gen_followup(self, t0: float) -> bool:
        rng = self.rng
        parents = [s for s in self.normals[-200:] if len(s["pids"]) >= 4]
        if not parents:
            return False
        parent = rng.choice(parents)
        pp = parent["pids"]
        k = rng.randint(2, 3)
        for _ in range(20):
            i = rng.randrange(0, len(pp) - k + 1)
            quoted = pp[i : i + k]
            qw = self._words(quoted)
            if 0 < qw <= 0.45 * self._words(pp):
                break
        else:
            return False
        share = rng.uniform(0.2, 0.45)
        need = qw * (1 - share) / share
        # new material, one story: nothing of the parent's beyond the quote
        story = self.new_story(math.ceil(need), exclude=frozenset(pp))
        if story is None:
            return False
        new = story[0]
        lede = max(1, min(len(new) - 1, rng.randint(1, 3)))
        paras = [self.paras[p] for p in new[:lede]]
        quote = [self.paras[p] for p in quoted]
        sep = "" if self.unspaced and self.lang != "th" else " "
        quote[0] = FOLLOWUP_INTRO.get(self.lang, FOLLOWUP_INTRO["en"]) + sep + quote[0]
        paras += quote + [self.paras[p] for p in new[lede:]]
        pids = new[:lede] + quoted + new[lede:]
        self.stories.append(set(pids))  # later mosaics are checked against all of it
        t = max(t0, parent["t0"] + rng.uniform(6, 96))
        extra = {"quoted_share": round(qw / self._words(pids), 3)}
        self._cluster(pids, t, "followup", "followup", "\n\n".join(paras), extra)
        return True

    def run(self) -> list[dict]:
        a, rng = self.args, self.rng
        span = max(48.0, 24.0 * a.docs / 2000.0)
        kinds = ["normal", "footer", "followup"]
        weights = [1 - a.p_footer - a.p_followup, a.p_footer, a.p_followup]
        failures = 0
        while len(self.docs) < a.docs * 1.03 + 10 and failures < 50:
            kind = rng.choices(kinds, weights)[0]
            made = getattr(self, f"gen_{kind}")(rng.uniform(0, span))
            failures = 0 if made else failures + 1
        self.docs.sort(key=lambda d: (d["_t"], d["cluster"]))
        base = datetime(2024, 1, 1, tzinfo=UTC)
        out = []
        for i, d in enumerate(self.docs[: a.docs]):
            ts = base + timedelta(seconds=round(d["_t"] * 3600))
            out.append(
                {
                    "id": f"{self.lang}{i:07d}",
                    "cluster": f"{self.lang}-{d['cluster']}",
                    "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "source": f"{self.lang}.example",
                    "title": "",
                    "text": d["text"],
                    "meta": {"lang": self.lang, **d["meta"]},
                }
            )
        return out
