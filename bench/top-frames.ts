import { readFile } from "node:fs/promises";

/**
 * Prints the functions with the most self time in a .cpuprofile written by
 * `node --cpu-prof` (for example by `npm run bench -- --profile`).
 * Usage: npx tsx bench/top-frames.ts FILE [COUNT]
 */

interface ProfileNode {
  id: number;
  callFrame: {
    functionName: string;
    url: string;
    lineNumber: number;
  };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

const [file, countArgument = "30"] = process.argv.slice(2);
if (!file) {
  console.error("Usage: npx tsx bench/top-frames.ts FILE.cpuprofile [COUNT]");
  process.exit(2);
}
const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
const byFrame = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  total += hits;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    ? `${url.replace(/^.*node_modules\//, "")}:${lineNumber + 1}`
    : "";
  const key = `${functionName || "(anonymous)"} ${where}`.trim();
  byFrame.set(key, (byFrame.get(key) ?? 0) + hits);
}
const top = [...byFrame.entries()]
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(countArgument));
for (const [frame, hits] of top) {
  console.log(`${((hits / total) * 100).toFixed(1).padStart(5)} %  ${frame}`);
}
