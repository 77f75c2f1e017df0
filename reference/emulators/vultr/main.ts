// Runs the Vultr emulator as a process: `npx tsx reference/emulators/vultr/main.ts`.
// Configuration comes from the environment (see config.ts); a bad value exits 2 with one line.
import { ConfigError, readConfig } from './config';
import { startVultrEmulator } from './server';

async function main(): Promise<void> {
  let options;
  try {
    options = readConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`vultr emulator: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const emulator = await startVultrEmulator(options);
  process.stdout.write(`vultr emulator ready on ${emulator.url}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`vultr emulator: stopping on ${signal} failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`vultr emulator: ${(error as Error).message}\n`);
  process.exit(1);
});
