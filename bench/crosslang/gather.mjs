// Cross-language benchmark, Node side: the same workloads as the Go suite
// (A, B, D, 100k gathered, and the event loop's 100k tasks each awaiting a
// child), printed in Go's benchmark format so that the
// report parses them with the same tools.
//
//   node gather.mjs [-count N] [-benchtime SECONDS]
//
// Node runs JavaScript on one thread: Promise.all interleaves the async
// functions on the event loop; nothing runs in parallel.
import { setTimeout as sleep } from "node:timers/promises";

const args = process.argv.slice(2);
function flag(name, def) {
  const i = args.indexOf("-" + name);
  return i >= 0 ? Number(args[i + 1]) : def;
}
const count = flag("count", 6);
const benchtime = flag("benchtime", 0.5);

let input = 20;
const work = (x) => x * 2 + 1;
const child = async (x) => work(x);
const range = (n) => Array.from({ length: n }, (_, i) => i);
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

const workloads = [
  {
    name: "XL_A_Spawn", tasks: 1,
    want: () => work(input),
    op: async () => await (async (x) => work(x))(input),
  },
  {
    name: "XL_B_All10k", tasks: 10_000,
    setup: () => range(10_000), want: (n) => n * n,
    op: async (xs) => sum(await Promise.all(xs.map(async (x) => work(x)))),
  },
  {
    name: "XL_D_Sleep1k", tasks: 1_000,
    setup: () => range(1_000), want: (n) => n * n,
    op: async (xs) => sum(await Promise.all(xs.map(async (x) => { await sleep(1); return work(x); }))),
  },
  {
    name: "XL_X_Gather100k", tasks: 100_000,
    setup: () => range(100_000), want: (n) => n * n,
    op: async (xs) => sum(await Promise.all(xs.map(async (x) => work(x)))),
  },
  {
    // The event loop's job: each task awaits a trivial child.
    name: "XL_LoopGather100k", tasks: 100_000,
    setup: () => range(100_000), want: (n) => n * n,
    op: async (xs) => sum(await Promise.all(xs.map(async (x) => await child(x)))),
  },
];

console.log(`goos: ${process.platform}`);
console.log(`pkg: crosslang/node ${process.version}`);
let sink = 0;
for (const w of workloads) {
  const data = w.setup ? w.setup() : undefined;
  const got = await w.op(data);
  const want = w.want(w.tasks);
  if (got !== want) throw new Error(`${w.name}: checksum ${got}, want ${want}`);
  // Warm up for about a tenth of the bench time, then size the runs.
  let n = 1, t0 = process.hrtime.bigint(), elapsed = 0;
  for (;;) {
    t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += await w.op(data);
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    if (elapsed >= benchtime / 10) break;
    n *= 2;
  }
  const iters = Math.max(1, Math.round((n * benchtime) / Math.max(elapsed, 1e-9)));
  for (let c = 0; c < count; c++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) sink += await w.op(data);
    const ns = Number(process.hrtime.bigint() - start) / iters;
    console.log(`Benchmark${w.name}/node \t${iters}\t${ns.toFixed(1)} ns/op\t${(ns / w.tasks).toFixed(2)} ns/task`);
  }
}
if (sink === 0) console.log("# sink", sink);
