import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOG_FORMATS } from '../dialect/log-format';
import { parseLogLine, scanForServerErrors } from './backend-log';

describe('parseLogLine', () => {
  it('reads pino lines: epoch-ms time, res.statusCode', () => {
    expect(parseLogLine('{"level":30,"time":1767261600000,"res":{"statusCode":503},"msg":"request completed"}')).toMatchObject({
      time: new Date(1767261600000),
      status: 503,
    });
  });

  it('reads flat statusCode or status, ISO or epoch-second time', () => {
    expect(parseLogLine('{"time":"2026-01-01T10:00:00Z","statusCode":200}')).toMatchObject({ status: 200, time: new Date('2026-01-01T10:00:00Z') });
    expect(parseLogLine('{"time":1767261600,"status":"500"}')).toMatchObject({ status: 500, time: new Date(1767261600000) });
    expect(parseLogLine('{"timestamp":"2026-01-01T10:00:00Z","status":"ok"}')).toMatchObject({ status: null });
  });

  it('ignores lines that are not JSON objects', () => {
    expect(parseLogLine('Server listening at http://127.0.0.1:3100')).toBeNull();
    expect(parseLogLine('{not json')).toBeNull();
    expect(parseLogLine('[1,2]')).toBeNull();
  });
});

describe('scanForServerErrors', () => {
  const since = new Date('2026-01-01T10:00:00Z');
  const log = [
    '{"time":"2026-01-01T09:59:59Z","statusCode":500}',
    '{"time":"2026-01-01T10:00:01Z","statusCode":200}',
    '{"time":"2026-01-01T10:00:02Z","res":{"statusCode":503},"err":{"code":"worker_unavailable"}}',
    '{"time":"2026-01-01T10:00:03Z","statusCode":402}',
    '{"statusCode":502}',
    'plain text line',
    '',
  ].join('\n');

  it('finds 5xx since the run started (a 503 worker_unavailable counts), not before', () => {
    const scan = scanForServerErrors(log, since);
    expect(scan.serverErrors.map((e) => e.status)).toEqual([503]);
    expect(scan.undatedServerErrors.map((e) => e.status)).toEqual([502]);
    expect(scan.requestLinesSince).toBe(3);
    expect(scan.linesRead).toBe(5);
  });
});

describe('the 5xx scan cannot be blind', () => {
  const since = new Date('2026-12-07T10:00:00Z');

  it('names JSON lines it cannot read or date', () => {
    const text = [
      JSON.stringify({ time: '2026-12-07T10:00:05Z', statusCode: 200 }),
      'Server listening on 3100',
      JSON.stringify({ statusCode: 500, msg: 'no time' }),
      '',
    ].join('\n');
    const scan = scanForServerErrors(text, since, LOG_FORMATS.json);
    expect(scan.unreadable).toEqual(['Server listening on 3100', '{"statusCode":500,"msg":"no time"}']);
    expect(scan.unreadableCount).toBe(2);
  });

  it("reads the documented journalctl -o short-iso output (CONTRACT 9's sample) in full, and finds its 500", () => {
    const sample = [
      '-- Logs begin at Mon 2026-12-07 09:00:00 UTC. --',
      '2026-12-07T10:00:01+0000 host puma[812]: Started POST "/api/v1/ai/missions/1/approve" for 127.0.0.1 at 2026-12-07 10:00:01 +0000',
      '2026-12-07T10:00:01+0000 host puma[812]: Processing by Api::V1::Ai::MissionsController#approve as JSON',
      '2026-12-07T10:00:01+0000 host puma[812]: Completed 500 Internal Server Error in 12ms (ActiveRecord: 1.2ms)',
    ].join('\n');
    const scan = scanForServerErrors(sample, since, LOG_FORMATS.journald);
    expect(scan.unreadable).toEqual([]);
    expect(scan.serverErrors.map((e) => e.status)).toEqual([500]);
  });

  it('refuses journalctl -o cat output: no stamp, so nothing could be dated', () => {
    const cat = ['Started POST "/api/v1/ai/missions/1/approve" for 127.0.0.1 at 2026-12-07 10:00:01 +0000', 'Completed 500 Internal Server Error in 12ms'].join('\n');
    const scan = scanForServerErrors(cat, since, LOG_FORMATS.journald);
    expect(scan.unreadableCount).toBe(2);
    expect(scan.serverErrors).toEqual([]);
  });

  it('every journalctl command the docs suggest prints the stamped form the scan reads', () => {
    const docs = ['README.md', '.env.example', 'profiles/powernode-core.env'].map((file) => readFileSync(file, 'utf8')).join('\n');
    const commands = [...docs.matchAll(/journalctl -u powernode-backend@default[^`"\n]*/g)].map((m) => m[0]);
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) expect(command, command).toMatch(/-o short-iso/);
  });
});

