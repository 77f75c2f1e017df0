import { describe, expect, it } from 'vitest';
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
