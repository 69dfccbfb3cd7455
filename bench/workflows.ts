// Seeded generators of scientific-workflow shapes (issue 16's "real-workflow shape"), after the
// Pegasus workflow generators' Montage and Epigenomics: wide fan-outs, fan-ins to one task,
// short pipelines per data chunk. Every task is a distinct `sleep` task whose `args.ms` is its
// run time (tens of ms, a per-kind base time with +-30 % seeded jitter), so the benchmark can set
// the measured makespan beside a zero-overhead list schedule of the same tasks
// (bench/list-schedule.ts).
import { SeededRng } from '../src/raft/rng.js';
import type { Dag, TaskSpec } from './dags.js';

class Builder {
  readonly tasks: Record<string, TaskSpec> = {};
  constructor(private readonly rng: SeededRng) {}

  /** Adds task `name` running about `baseMs`; returns its name for use in deps. */
  add(name: string, baseMs: number, deps: readonly string[] = []): string {
    const ms = Math.max(1, Math.round(baseMs * (0.7 + 0.6 * this.rng.float())));
    this.tasks[name] = { handler: 'sleep', args: { ms }, ...(deps.length > 0 ? { deps } : {}) };
    return name;
  }
}

/**
 * Montage-like mosaic: `images` reprojections, a difference fit for each overlapping pair (each
 * image with its next three, as tiles overlap their neighbours), one fan-in fit and background
 * model, a background correction per image, then a serial tail (table, add, shrink, JPEG).
 * About 5 x `images` tasks.
 */
export function montage(images: number, seed: number): Dag {
  if (!Number.isInteger(images) || images < 2) throw new RangeError(`montage: images must be an integer >= 2, got ${images}`);
  const b = new Builder(new SeededRng(seed));
  const project = (i: number): string => `mProjectPP_${i}`;
  for (let i = 0; i < images; i++) b.add(project(i), 40);
  const diffs: string[] = [];
  for (let i = 0; i < images; i++) {
    for (let d = 1; d <= 3 && i + d < images; d++) diffs.push(b.add(`mDiffFit_${i}_${i + d}`, 15, [project(i), project(i + d)]));
  }
  const concat = b.add('mConcatFit', 30, diffs);
  const model = b.add('mBgModel', 40, [concat]);
  const background = Array.from({ length: images }, (_, i) => b.add(`mBackground_${i}`, 15, [model, project(i)]));
  const table = b.add('mImgtbl', 20, background);
  const add = b.add('mAdd', 60, [table]);
  const shrink = b.add('mShrink', 20, [add]);
  b.add('mJPEG', 20, [shrink]);
  return { name: `montage-${images}`, tasks: b.tasks };
}

/**
 * Epigenomics-like genome mapping: per lane a split, `chunks` four-step pipelines (filter,
 * convert, convert, map), a merge of the lane; then a global merge, index and pileup.
 * lanes x (4 x chunks + 2) + 3 tasks.
 */
export function epigenomics(lanes: number, chunks: number, seed: number): Dag {
  if (!Number.isInteger(lanes) || lanes < 1 || !Number.isInteger(chunks) || chunks < 1) {
    throw new RangeError(`epigenomics: lanes and chunks must be integers >= 1, got ${lanes} and ${chunks}`);
  }
  const b = new Builder(new SeededRng(seed));
  const merged: string[] = [];
  for (let l = 0; l < lanes; l++) {
    const split = b.add(`fastQSplit_${l}`, 40);
    const mapped: string[] = [];
    for (let c = 0; c < chunks; c++) {
      const filter = b.add(`filterContams_${l}_${c}`, 15, [split]);
      const sanger = b.add(`sol2sanger_${l}_${c}`, 10, [filter]);
      const bfq = b.add(`fastq2bfq_${l}_${c}`, 15, [sanger]);
      mapped.push(b.add(`map_${l}_${c}`, 80, [bfq]));
    }
    merged.push(b.add(`mapMerge_${l}`, 30, mapped));
  }
  const all = b.add('mapMerge_all', 30, merged);
  const index = b.add('maqIndex', 40, [all]);
  b.add('pileup', 60, [index]);
  return { name: `epigenomics-${lanes}x${chunks}`, tasks: b.tasks };
}
