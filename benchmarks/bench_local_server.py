"""Benchmark the embedded Ollama-compatible server (`alkd teacher serve`) on this machine.

A ranking-style chat request (a 10-item session and 20 candidates, about 300 prompt tokens;
60 output tokens under a JSON schema that asks for at least 20 ids, so answers run the full
60) is sent through the official `ollama` client, without and with streaming, one at a
time and 4 at a time. Reported: requests/s and generated tokens/s over the wall time,
latency (mean, p95), time to the first streamed chunk, and the server's own rates.

    .venv/bin/python benchmarks/bench_local_server.py                 # results in .bench/
    .venv/bin/python benchmarks/bench_local_server.py --requests 12 --threads 2
    .venv/bin/python benchmarks/bench_local_server.py --url http://127.0.0.1:11434 --model M
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import ollama

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alkd_tui.teacher.server import DEFAULT_MODEL_NAME, LocalModel, serve_in_thread  # noqa: E402

SESSION = [
    "Trail running shoes",
    "Merino hiking socks",
    "Ultralight rain jacket",
    "Steel water bottle",
    "Rechargeable headlamp",
    "Carbon trekking poles",
    "Two-person tent",
    "Compression sack",
    "Water filter straw",
    "Microfiber towel",
]
CANDIDATES = [
    "Down sleeping bag", "Sleeping pad", "Camping stove", "Titanium pot", "Red lipstick",
    "Office chair", "GPS watch", "Bear canister", "Hiking backpack", "Phone case",
    "Blister plasters", "First aid kit", "Gaming mouse", "Insect repellent", "Fleece jacket",
    "Sport sunglasses", "Coffee grinder", "Waterproof gaiters", "Solar charger", "Knife set",
]  # fmt: skip
IDS = [f"I{100 + i}" for i in range(len(CANDIDATES))]
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ranking": {
            "type": "array",
            "items": {"type": "string", "enum": IDS},
            "minItems": 20,
            "maxItems": 20,
        }
    },
    "required": ["ranking"],
}
MESSAGES = [
    {
        "role": "system",
        "content": "You are a recommender. Given a shopping session, rank candidate items by "
        "how likely the user is to click them next. Answer with JSON only.",
    },
    {
        "role": "user",
        "content": "The user viewed, in order:\n"
        + "\n".join(f"{i + 1}. {title}" for i, title in enumerate(SESSION))
        + "\n\nCandidate items:\n"
        + "\n".join(f"{cid}: {title}" for cid, title in zip(IDS, CANDIDATES, strict=True))
        + '\n\nRank all 20 candidates, most likely first, as {"ranking": [ids]}.',
    },
]
OUTPUT_TOKENS = 60


@dataclass
class Result:
    """One request as the client saw it."""

    latency_s: float
    first_chunk_s: float | None
    prompt_tokens: int
    output_tokens: int
    eval_rate: float  # the server's own tokens/s of generation
    prompt_rate: float  # the server's own tokens/s of prompt evaluation
    done_reason: str


def ask(client: ollama.Client, model: str, seed: int, stream: bool) -> Result:
    options = {"temperature": 0.2, "seed": seed, "num_predict": OUTPUT_TOKENS}
    started = time.perf_counter()
    first = None
    if stream:
        last = None
        for part in client.chat(
            model=model, messages=MESSAGES, format=SCHEMA, options=options, stream=True
        ):
            if first is None:
                first = time.perf_counter() - started
            last = part
        final = last
    else:
        final = client.chat(model=model, messages=MESSAGES, format=SCHEMA, options=options)
    latency = time.perf_counter() - started
    assert final is not None and final.done
    eval_ns = max(final.eval_duration or 1, 1)
    prompt_ns = max(final.prompt_eval_duration or 1, 1)
    return Result(
        latency_s=latency,
        first_chunk_s=first,
        prompt_tokens=final.prompt_eval_count or 0,
        output_tokens=final.eval_count or 0,
        eval_rate=(final.eval_count or 0) / eval_ns * 1e9,
        prompt_rate=(final.prompt_eval_count or 0) / prompt_ns * 1e9,
        done_reason=final.done_reason or "",
    )


def run_case(
    client: ollama.Client, model: str, stream: bool, concurrency: int, requests: int
) -> dict[str, Any]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda i: ask(client, model, i, stream), range(requests)))
    wall = time.perf_counter() - started
    latencies = sorted(r.latency_s for r in results)
    firsts = [r.first_chunk_s for r in results if r.first_chunk_s is not None]
    return {
        "stream": stream,
        "concurrency": concurrency,
        "requests": requests,
        "wall_s": wall,
        "requests_per_s": requests / wall,
        "gen_tokens_per_s": sum(r.output_tokens for r in results) / wall,
        "latency_mean_s": statistics.mean(latencies),
        "latency_p95_s": latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))],
        "first_chunk_mean_s": statistics.mean(firsts) if firsts else None,
        "prompt_tokens_mean": statistics.mean(r.prompt_tokens for r in results),
        "output_tokens_mean": statistics.mean(r.output_tokens for r in results),
        "server_eval_tokens_per_s": statistics.mean(r.eval_rate for r in results),
        "server_prompt_tokens_per_s": statistics.mean(r.prompt_rate for r in results),
        "done_reasons": sorted({r.done_reason for r in results}),
        "results": [asdict(r) for r in results],
    }


def table(cases: list[dict[str, Any]]) -> str:
    rows = [
        "| mode | concurrency | requests | req/s | gen tok/s | latency mean / p95 (s) "
        "| first chunk (s) | prompt / output tok | server eval / prompt tok/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cases:
        first = f"{c['first_chunk_mean_s']:.2f}" if c["first_chunk_mean_s"] is not None else "-"
        rows.append(
            f"| {'stream' if c['stream'] else 'non-stream'} | {c['concurrency']} | {c['requests']} "
            f"| {c['requests_per_s']:.2f} | {c['gen_tokens_per_s']:.1f} "
            f"| {c['latency_mean_s']:.2f} / {c['latency_p95_s']:.2f} | {first} "
            f"| {c['prompt_tokens_mean']:.0f} / {c['output_tokens_mean']:.0f} "
            f"| {c['server_eval_tokens_per_s']:.1f} / {c['server_prompt_tokens_per_s']:.0f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8, help="requests per case [8]")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--url", default=None, help="benchmark this server instead")
    parser.add_argument("--model", default=DEFAULT_MODEL_NAME, help="model name with --url")
    parser.add_argument("--out", type=Path, default=ROOT / ".bench")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    with ExitStack() as stack:
        threads = None
        if args.url is None:
            local = LocalModel(n_threads=args.threads)
            threads = local.n_threads
            url = stack.enter_context(serve_in_thread(port=0, model=local, preload=True))
            stack.callback(local.close)
        else:
            url = args.url
        client = ollama.Client(host=url, timeout=600)
        ask(client, args.model, 0, False)  # warm up
        cases = []
        for stream in (False, True):
            for concurrency in (1, 4):
                case = run_case(client, args.model, stream, concurrency, args.requests)
                cases.append(case)
                print(
                    f"{'stream' if stream else 'non-stream'} x{concurrency}: "
                    f"{case['requests_per_s']:.2f} req/s, {case['gen_tokens_per_s']:.1f} tok/s",
                    file=sys.stderr,
                    flush=True,
                )
    load_after = os.getloadavg()

    md = table(cases)
    print(md)
    env = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "llama_threads": threads,
        "llama_cpp_python": version("llama_cpp_python") if args.url is None else None,
        "server": url if args.url else "embedded",
        "model": args.model,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }
    print(
        f"\n{env['cpus']} CPUs, {threads or '?'} llama.cpp threads, load average "
        f"{load_before[0]:.1f} before / {load_after[0]:.1f} after",
        file=sys.stderr,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.out / f"local_server_{stamp}.json"
    path.write_text(
        json.dumps(
            {"env": env, "output_tokens": OUTPUT_TOKENS, "cases": cases, "table": md}, indent=2
        )
    )
    print(f"saved {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
