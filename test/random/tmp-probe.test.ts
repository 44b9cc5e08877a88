import { it } from 'vitest';
import { runGuest } from '../support/tagvisor-run.js';
it('probe', async () => {
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    const r = await runGuest('guests/build/harness.elf');
    console.log(r.status, r.instructions, performance.now() - t);
  }
});
