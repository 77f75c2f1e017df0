import { describe, expect, it } from 'vitest';
import { safeNextPath } from '../router';
import { latestBrief } from './ProvisionPage';
import { serverFieldErrors } from './RegisterPage';
import type { ChatMessage } from '../types';

function message(id: string, metadata: ChatMessage['metadata'], role: ChatMessage['role'] = 'assistant'): ChatMessage {
  return { id, role, content: '', metadata, created_at: '2026-01-01T00:00:00Z' };
}

describe('latestBrief', () => {
  it('takes the newest brief and its missing fields', () => {
    const found = latestBrief([
      message('1', { brief: { intent: 'old' } }),
      message('2', null, 'user'),
      message('3', { brief: { intent: 'new' }, missing: ['regions'] }),
      message('4', null, 'user'),
    ]);
    expect(found).toEqual({ brief: { intent: 'new' }, missing: ['regions'] });
  });

  it('is empty before any brief', () => {
    expect(latestBrief([message('1', null, 'user')])).toEqual({ brief: null, missing: [] });
  });
});

describe('serverFieldErrors', () => {
  it('sends the user back to the earliest step with a problem', () => {
    expect(serverFieldErrors({ password: ['is too short'], name: 'is required' })).toEqual({
      step: 2,
      messages: ['Password: is too short', 'Name: is required'],
    });
  });

  it('reads a nested fields object and keeps messages that already name the field', () => {
    expect(serverFieldErrors({ fields: { email: 'email is invalid' } })).toEqual({ step: 1, messages: ['email is invalid'] });
  });

  it('stays on the last step when details name no known field', () => {
    expect(serverFieldErrors(undefined)).toEqual({ step: 3, messages: [] });
  });
});

describe('safeNextPath', () => {
  it('follows same-origin paths only', () => {
    expect(safeNextPath('/settings/billing?x=1', '/new')).toBe('/settings/billing?x=1');
    expect(safeNextPath('//evil.example', '/new')).toBe('/new');
    expect(safeNextPath('https://evil.example', '/new')).toBe('/new');
    expect(safeNextPath(null, '/new')).toBe('/new');
  });
});
