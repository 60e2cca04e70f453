// Loaded through NODE_OPTIONS=--require (where --cpu-prof is not allowed): samples the whole
// process with the inspector's profiler and writes a .cpuprofile to BATON_CPU_PROF_DIR on exit.
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const dir = process.env.BATON_CPU_PROF_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(join(dir, `baton-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
