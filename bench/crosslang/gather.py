"""Cross-language benchmark, CPython asyncio side: the same workloads as the
Go suite (A, B, D, 100k gathered, and the event loop's 100k tasks each
awaiting a child), printed in Go's benchmark format so that
the report parses them with the same tools.

    python3 gather.py [-count N] [-benchtime SECONDS]

asyncio runs coroutines on one thread: gather interleaves them on the event
loop; nothing runs in parallel. Standard library only.
"""

import asyncio
import sys
import time

INPUT = 20


def work(x):
    return x * 2 + 1


async def work_async(x):
    return work(x)


async def sleep_then_work(x):
    await asyncio.sleep(0.001)
    return work(x)


async def op_spawn(_):
    return await asyncio.create_task(work_async(INPUT))


async def op_gather(xs):
    return sum(await asyncio.gather(*(work_async(x) for x in xs)))


async def await_child(x):
    # The event loop's job: each task awaits a trivial child coroutine
    # (awaiting it directly, asyncio's cheapest way; a Task per child is
    # about 2.5x slower).
    return await work_async(x)


async def op_loop_gather(xs):
    return sum(await asyncio.gather(*(await_child(x) for x in xs)))


async def op_sleep(xs):
    return sum(await asyncio.gather(*(sleep_then_work(x) for x in xs)))


WORKLOADS = [
    ("XL_A_Spawn", 1, op_spawn, lambda n: work(INPUT)),
    ("XL_B_All10k", 10_000, op_gather, lambda n: n * n),
    ("XL_D_Sleep1k", 1_000, op_sleep, lambda n: n * n),
    ("XL_X_Gather100k", 100_000, op_gather, lambda n: n * n),
    ("XL_LoopGather100k", 100_000, op_loop_gather, lambda n: n * n),
]


def flag(name, default):
    args = sys.argv[1:]
    if "-" + name in args:
        return float(args[args.index("-" + name) + 1])
    return default


async def main():
    count = int(flag("count", 6))
    benchtime = flag("benchtime", 0.5)
    print(f"goos: {sys.platform}")
    print(f"pkg: crosslang/python {sys.version.split()[0]}")
    sink = 0
    for name, tasks, op, want in WORKLOADS:
        data = list(range(tasks))
        got = await op(data)
        if got != want(tasks):
            raise SystemExit(f"{name}: checksum {got}, want {want(tasks)}")
        # Warm up for about a tenth of the bench time, then size the runs.
        n = 1
        while True:
            t0 = time.perf_counter_ns()
            for _ in range(n):
                sink += await op(data)
            elapsed = (time.perf_counter_ns() - t0) / 1e9
            if elapsed >= benchtime / 10:
                break
            n *= 2
        iters = max(1, round(n * benchtime / max(elapsed, 1e-9)))
        for _ in range(count):
            t0 = time.perf_counter_ns()
            for _ in range(iters):
                sink += await op(data)
            ns = (time.perf_counter_ns() - t0) / iters
            print(f"Benchmark{name}/python \t{iters}\t{ns:.1f} ns/op\t{ns / tasks:.2f} ns/task", flush=True)
    if sink == 0:
        print("# sink", sink)


if __name__ == "__main__":
    asyncio.run(main())
