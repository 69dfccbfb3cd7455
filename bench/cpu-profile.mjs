// Preloaded into `meshrun node` processes by the scheduler benchmark when MESHRUN_BENCH_PROFILE
// names a directory (NODE_OPTIONS="--import ./bench/cpu-profile.mjs"; --cpu-prof is not allowed
// in NODE_OPTIONS): the first SIGUSR2 starts the V8 CPU profiler, the second writes
// <dir>/<pid>.cpuprofile (open it in Chrome DevTools, or summarize it with bench/top-profile.mjs).
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.MESHRUN_BENCH_PROFILE;
if (dir && process.argv.includes('node')) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')),
      );
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
