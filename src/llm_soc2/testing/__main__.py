"""``python -m llm_soc2.testing [--port N]``: run the fake provider until interrupted.

Prints one JSON line with the base URLs (``{"openai": ..., "anthropic": ...}``), then serves the
default replies. Handy for trying an application, and for benchmarks that keep the server out of the
measured process.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from llm_soc2.testing import FakeProvider, Reply


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m llm_soc2.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--text", default=None, help="the reply text (default: a fixed sentence)")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with FakeProvider(args.host, args.port) as fake:
        if args.text is not None:
            fake.openai.default = fake.anthropic.default = Reply(text=args.text)
        print(json.dumps({"openai": fake.openai.base_url, "anthropic": fake.anthropic.base_url}), flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
