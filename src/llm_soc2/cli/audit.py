"""``llm-soc2 audit``: verify, prove, check-proof, checkpoint, export, keygen, rotate-key, erase, purge,
status.

Exit status: 0 OK; 1 a check found tampering (verification or proof failed); 2 bad input or an
unreachable store.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from llm_soc2.config import Settings

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_ERROR = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("audit", help="verify, prove and manage the tamper-evident audit log")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION")

    def usage(_args: argparse.Namespace) -> int:
        parser.print_help()
        return EXIT_ERROR

    parser.set_defaults(handler=usage)

    def common(p: argparse.ArgumentParser, *, log_id: bool = True) -> None:
        p.add_argument(
            "--url", help="audit store URL (default: LLM_SOC2_AUDIT_URL or the embedded SQLite file)"
        )
        if log_id:
            p.add_argument(
                "--log-id", help="log id (default: every log for reads, LLM_SOC2_AUDIT_LOG_ID for writes)"
            )

    p = sub.add_parser("verify", help="recompute the log and check it against checkpoints")
    common(p)
    p.add_argument(
        "--from", dest="start", type=int, metavar="SEQ", help="first record whose body is re-hashed"
    )
    p.add_argument(
        "--to", dest="end", type=int, metavar="SEQ", help="stop re-hashing bodies before this record"
    )
    p.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a trusted checkpoint (signed note or JSON); repeatable",
    )
    p.add_argument(
        "--witness-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a directory witness to trust (default: LLM_SOC2_WITNESS_DIR when it exists)",
    )
    p.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="VKEY_OR_FILE",
        help="trusted public key (<name>+<hash>+<base64> or a file of them); repeatable",
    )
    p.add_argument("--no-nodes", action="store_true", help="skip checking the interior node cache")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=_verify)

    p = sub.add_parser(
        "prove", help="inclusion proof of one record, with the signed checkpoint it is against"
    )
    common(p)
    p.add_argument("seq", type=int)
    p.add_argument("--out", type=Path, help="write the proof here instead of stdout")
    p.set_defaults(handler=_prove)

    p = sub.add_parser("check-proof", help="check an inclusion proof offline with only the public key")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--key", action="append", required=True, metavar="VKEY_OR_FILE", help="the log's public key"
    )
    p.set_defaults(handler=_check_proof)

    p = sub.add_parser("checkpoint", help="sign a checkpoint now and hand it to the witnesses")
    common(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_checkpoint)

    p = sub.add_parser("export", help="JSONL of records with their inclusion proofs")
    common(p)
    p.add_argument("--out", type=Path, help="output file (default stdout)")
    p.add_argument("--no-proofs", action="store_true", help="records only")
    p.set_defaults(handler=_export)

    p = sub.add_parser("keygen", help="create the checkpoint signing key (never overwrites)")
    p.add_argument("--name", help="key name (default: the log's origin)")
    p.add_argument("--key-file", type=Path, help="key path (default: LLM_SOC2_SIGNING_KEY)")
    p.set_defaults(handler=_keygen)

    p = sub.add_parser("rotate-key", help="sign with a new key from now on (recorded in the log)")
    common(p)
    p.add_argument("--name", help="name of the new key (default: the current key's)")
    p.set_defaults(handler=_rotate)

    p = sub.add_parser("erase", help="crypto-shred a subject's content (recorded in the log)")
    common(p)
    p.add_argument("--subject", required=True, help="the hashed end-user id (llm_soc2.end_user.hash)")
    p.add_argument("--reason", default="", help="why (recorded with the erasure)")
    p.set_defaults(handler=_erase)

    p = sub.add_parser("purge", help="remove content older than a period (recorded in the log)")
    common(p)
    p.add_argument("--older-than", required=True, help="e.g. 30d, 12h, 90m, 3600s")
    p.set_defaults(handler=_purge)

    p = sub.add_parser("status", help="size, latest checkpoint, spill backlog")
    common(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_status)


# --------------------------------------------------------------------------------------------------
def _err(message: str) -> int:
    print(f"llm-soc2 audit: {message}", file=sys.stderr)
    return EXIT_ERROR


def _open(args: argparse.Namespace, *, for_write: bool = False) -> Any:
    from llm_soc2.audit.log import AuditLog

    settings = Settings.from_env()
    log_id = getattr(args, "log_id", None)
    return AuditLog.open(getattr(args, "url", None), log_id=log_id, settings=settings)


def _keys(items: list[str]) -> list[Any]:
    from llm_soc2.audit.checkpoint import NoteError, Verifier
    from llm_soc2.errors import ConfigurationError

    out = []
    for item in items:
        path = Path(item)
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else [item]
        for line in lines:
            if line.strip():
                try:
                    out.append(Verifier.from_vkey(line.strip()))
                except NoteError as exc:
                    raise ConfigurationError(f"bad public key {line.strip()!r}: {exc}") from exc
    return out


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"bad duration {text!r}: use e.g. 30d, 12h, 90m or 3600s")
    value = float(match.group(1))
    unit = match.group(2) or "s"
    return timedelta(seconds=value * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit])


def _guard(func: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        from llm_soc2.errors import LLMSoc2Error, VerificationError

        try:
            return int(func(args))
        except VerificationError as exc:
            print(f"llm-soc2 audit: verification failed: {exc}", file=sys.stderr)
            return EXIT_FINDING
        except (LLMSoc2Error, OSError, ValueError) as exc:
            return _err(str(exc))

    return run


@_guard
def _verify(args: argparse.Namespace) -> int:
    from llm_soc2.audit.log import load_trusted_checkpoints

    log = _open(args)
    try:
        dirs = list(args.witness_dir)
        if not dirs and not args.checkpoint and log.settings.resolved_witness_dir.is_dir():
            dirs = [log.settings.resolved_witness_dir]
        trusted = load_trusted_checkpoints([*args.checkpoint, *dirs])
        keys = _keys(args.key)
        if (
            keys
            and trusted
            and not any(
                (k.name, k.key_hash) == (sig.name, sig.key_hash)
                for k in keys
                for signed in trusted
                for sig in signed.signatures()
            )
        ):
            return _err(
                "none of the --key public keys signed any of the trusted checkpoints: pass the log's keys "
                "(the .pub file beside the signing key)"
            )
        report = log.verify(
            start=args.start,
            end=args.end,
            trusted=trusted,
            keys=keys,
            check_nodes=not args.no_nodes,
        )
    finally:
        log.close()
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.summary())
        for note in report.notes:
            print(f"note: {note}")
    if not report.ok:
        if not args.json:
            where = f" (first bad record: {report.first_bad_seq})" if report.first_bad_seq is not None else ""
            print(
                f"llm-soc2 audit: TAMPERING DETECTED in log {report.log_id!r}{where}: {report.reason}",
                file=sys.stderr,
            )
        return EXIT_FINDING
    return EXIT_OK


@_guard
def _prove(args: argparse.Namespace) -> int:
    log = _open(args)
    try:
        target = args.log_id or log.write_log_id
        size = log.size(target)
        if not 0 <= args.seq < size:
            return _err(
                f"no record {args.seq} in log {target!r}: it holds records 0..{size - 1}"
                if size
                else f"no record {args.seq}: log {target!r} is empty"
            )
        proof = log.prove(args.seq, log_id=args.log_id)
    finally:
        log.close()
    text = proof.dumps() + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


@_guard
def _check_proof(args: argparse.Namespace) -> int:
    from llm_soc2.audit.proofs import InclusionProof

    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        return _err(f"{args.file} is not JSON: {exc}")
    proof = InclusionProof.from_json(data)
    keys = _keys(args.key)
    signed_by = proof.checkpoint.signatures()
    if not any((k.name, k.key_hash) == (sig.name, sig.key_hash) for k in keys for sig in signed_by):
        return _err(
            "none of the given public keys signed the proof's checkpoint (it is signed by "
            f"{', '.join(f'{sig.name}+{sig.key_hash:08x}' for sig in signed_by) or 'nobody'}): pass the log's key with --key"
        )
    record = proof.verify(keys)
    print(
        f"OK: record {proof.seq} of log {proof.log_id!r} ({record.kind}) is included in the checkpoint at size "
        f"{proof.tree_size} signed by {', '.join(s.name for s in proof.checkpoint.signatures())}"
    )
    return EXIT_OK


def _witness(settings: Settings, signed: Any) -> dict[str, int]:
    """Hand a checkpoint to the configured witnesses now; returns failures per witness."""
    from llm_soc2.audit.witness import WitnessDispatcher
    from llm_soc2.audit.writer import default_witnesses

    dispatcher = WitnessDispatcher(default_witnesses(settings))
    dispatcher.deliver(signed)
    return {k: v for k, v in dispatcher.failures.items() if v}


@_guard
def _checkpoint(args: argparse.Namespace) -> int:
    log = _open(args)
    try:
        signed = log.checkpoint(log_id=args.log_id)
        failures = _witness(log.settings, signed)
    finally:
        log.close()
    if args.json:
        print(json.dumps(signed.to_json(), indent=2))
    else:
        sys.stdout.write(signed.note)
    if failures:
        print(f"llm-soc2 audit: witness failures: {failures}", file=sys.stderr)
    return EXIT_OK


@_guard
def _export(args: argparse.Namespace) -> int:
    from llm_soc2.audit.record import to_json_dict

    log = _open(args)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    count = 0
    try:
        checkpoints: dict[str, Any] = {}
        for record in log.records():
            line: dict[str, Any] = {"record": to_json_dict(record)}
            if not args.no_proofs:
                assert record.seq is not None
                cp = checkpoints.get(record.log_id)
                if cp is None or cp.size <= record.seq:
                    cp = log.latest_checkpoint(log_id=record.log_id)
                    if cp is None or cp.size <= record.seq:
                        cp = log.checkpoint(log_id=record.log_id)
                    checkpoints[record.log_id] = cp
                line["proof"] = log.prove(record.seq, log_id=record.log_id, checkpoint=cp).to_json()
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if args.out:
            out.close()
        log.close()
    print(f"exported {count} records", file=sys.stderr)
    return EXIT_OK


@_guard
def _keygen(args: argparse.Namespace) -> int:
    from llm_soc2.audit.checkpoint import origin_for
    from llm_soc2.audit.keys import create_signer, load_signer, public_keys_path

    settings = Settings.from_env()
    path = args.key_file or settings.resolved_signing_key_path
    existing = load_signer(path)
    if existing is not None:
        print(
            f"llm-soc2 audit: {path} already exists (public key {existing.vkey}); use rotate-key",
            file=sys.stderr,
        )
        return EXIT_ERROR
    name = args.name or origin_for(settings.resolved_audit_log_id).replace(" ", "_")
    signer = create_signer(path, name)
    print(f"private key: {path}")
    print(f"public keys: {public_keys_path(path)}")
    print(signer.vkey)
    return EXIT_OK


@_guard
def _rotate(args: argparse.Namespace) -> int:
    log = _open(args)
    try:
        old = log.signer()
        new = log.rotate_key(args.name)
        signed = log.latest_checkpoint()
        failures = _witness(log.settings, signed) if signed is not None else {}
    finally:
        log.close()
    print(f"retired: {old.vkey}")
    print(f"signing: {new.vkey}")
    if signed is not None:
        print(f"checkpoint at size {signed.size} signed by the new key, handed to the witnesses")
    if failures:
        print(f"llm-soc2 audit: witness failures: {failures}", file=sys.stderr)
    return EXIT_OK


@_guard
def _erase(args: argparse.Namespace) -> int:
    log = _open(args)
    try:
        removed = log.erase(args.subject, reason=args.reason)
    finally:
        log.close()
    print(
        f"erased subject {args.subject}: {removed} content blobs removed, data key destroyed; the erasure is recorded"
    )
    return EXIT_OK


@_guard
def _purge(args: argparse.Namespace) -> int:
    period = parse_duration(args.older_than)
    log = _open(args)
    try:
        removed = log.purge(period)
    finally:
        log.close()
    print(
        f"purged content older than {args.older_than}: {removed} content blobs removed; the purge is recorded"
    )
    return EXIT_OK


@_guard
def _status(args: argparse.Namespace) -> int:
    from llm_soc2.audit.writer import spill_dir

    log = _open(args)
    try:
        ids = [args.log_id] if args.log_id else (log.log_ids() or [log.write_log_id])
        logs = []
        for log_id in ids:
            cp = log.latest_checkpoint(log_id=log_id)
            spills = [
                path
                for path in (
                    spill_dir(log.settings, log_id) / name for name in ("records.spill", "overflow.spill")
                )
                if path.exists()
            ]
            logs.append(
                {
                    "log_id": log_id,
                    "size": log.size(log_id),
                    "latest_checkpoint": None
                    if cp is None
                    else {"size": cp.size, "time_unix_nano": cp.time_unix_nano},
                    "spill_file": str(spills[0]) if spills else None,
                    "spill_files": [str(path) for path in spills],
                    "spill_bytes": sum(path.stat().st_size for path in spills),
                }
            )
        result = {"url": _redacted(log.url), "logs": logs}
    finally:
        log.close()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"store: {result['url']}")
        for item in logs:
            cp = item["latest_checkpoint"]
            print(
                f"log {item['log_id']!r}: {item['size']} records; latest checkpoint: "
                f"{'none' if cp is None else 'size ' + str(cp['size'])}; spill backlog: {item['spill_bytes']} bytes"
            )
    return EXIT_OK


def _redacted(url: str) -> str:
    from llm_soc2.audit.store_postgres import _redact

    return _redact(url)
