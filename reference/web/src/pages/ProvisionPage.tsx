/**
 * The provisioning chat: conversation on the left, the captured brief on the right, the plan
 * review as a modal, and the execution pill (or the paywall card) after Approve.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { api, ApiError, errorMessage } from '../api';
import { BriefCard } from '../components/BriefCard';
import { ExecutionPill } from '../components/ExecutionPill';
import { PlanModal } from '../components/PlanModal';
import { useToasts } from '../components/Toasts';
import { ChatUpgradeCard, UpgradeRequiredCard, type ChatUpgrade, type UpgradeRequired } from '../components/UpgradeRequiredCard';
import { readMission, readPlan } from '../missions';
import type { Execution, MissionOutcome } from '../useMissionStream';
import type { Brief, ChatMessage, Mission, MissionPlan, Spend } from '../types';
import { hasPageFault } from '../faults';

const CREDENTIAL_ERRORS = new Set(['credentials_invalid', 'credentials_missing']);
const SPEND_RECHECK_MS = 2000;
const CREDENTIALS_TOAST = 'Provisioning failed: Vultr credentials missing or invalid';
/** A mission the worker refused on quota (paywall_in_chat): its chat message carries the paywall. */
const UPGRADE_REQUIRED = 'upgrade_required';

type ModalState = { missionId: string; mission: Mission | null; loading: boolean; error: string | null };

/** The newest brief in the conversation, with the fields the assistant still asks for. */
export function latestBrief(messages: ChatMessage[]): { brief: Brief | null; missing: string[] } {
  for (let i = messages.length - 1; i >= 0; i--) {
    const metadata = messages[i]!.metadata;
    if (metadata?.brief) return { brief: metadata.brief, missing: metadata.missing ?? [] };
  }
  return { brief: null, missing: [] };
}

function latestPlanMessageId(messages: ChatMessage[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'assistant' && message.metadata?.plan_ready?.mission_id) return message.id;
  }
  return null;
}

function latestMissionId(messages: ChatMessage[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const metadata = messages[i]!.metadata;
    const id = metadata?.plan_ready?.mission_id ?? metadata?.mission_id;
    if (id) return id;
  }
  return null;
}

function executionFromPlan(missionId: string, plan: MissionPlan | null): Execution {
  return {
    missionId,
    status: 'approved',
    steps: (plan?.dag.nodes ?? []).map((node) => ({ step_id: node.id, skill: node.skill, status: 'pending' })),
  };
}

function stepLabels(plan: MissionPlan | null | undefined): Record<string, string> {
  return Object.fromEntries((plan?.dag.nodes ?? []).map((node) => [node.id, node.label || node.skill]));
}

async function fetchMission(missionId: string): Promise<Mission> {
  return readMission(await api<unknown>('GET', `/ai/missions/${encodeURIComponent(missionId)}`));
}

async function fetchMissionWithPlan(missionId: string): Promise<Mission> {
  const mission = await fetchMission(missionId);
  if (mission.plan) return mission;
  // A brief can be complete before its plan is composed (and public Powernode's mission carries
  // only the plan's id); composing is idempotent server-side.
  const composed = await api<{ plan: unknown }>('POST', `/ai/missions/${encodeURIComponent(missionId)}/compose_plan`);
  return { ...mission, plan: readPlan(composed.plan) };
}

/** The paywall a chat message carries (paywall_in_chat), if any. */
export function chatUpgrade(message: ChatMessage): ChatUpgrade | null {
  const upgrade = message.metadata?.upgrade_required;
  if (!upgrade?.requires_upgrade) return null;
  return {
    message: message.content,
    reason: upgrade.reason ?? 'max_active_instances_exceeded',
    cap: typeof upgrade.cap === 'number' ? upgrade.cap : null,
    upgradeUrl: upgrade.upgrade_url ?? null,
  };
}

export function ProvisionPage() {
  const { showError } = useToasts();
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const [spend, setSpend] = useState<Spend | null>(null);
  const [spendError, setSpendError] = useState<string | null>(null);
  const [modal, setModal] = useState<ModalState | null>(null);
  const [approving, setApproving] = useState(false);
  const [execution, setExecution] = useState<{ initial: Execution; labels: Record<string, string> } | null>(null);
  const [upgrade, setUpgrade] = useState<UpgradeRequired | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const localId = useRef(0);

  const refreshSpend = useCallback(async () => {
    try {
      setSpend(await api<Spend>('GET', '/billing/spend'));
      setSpendError(null);
    } catch (error) {
      setSpendError(errorMessage(error));
    }
  }, []);

  // Conversation, history and spend on arrival; a mission still running is picked up again.
  useEffect(() => {
    let cancelled = false;
    async function load(): Promise<void> {
      const { conversation } = await api<{ conversation: { id: string } }>('POST', '/ai/conversations/concierge');
      const history = await api<{ messages: ChatMessage[] }>('GET', `/ai/conversations/${encodeURIComponent(conversation.id)}/messages`);
      if (cancelled) return;
      setConversationId(conversation.id);
      setMessages(history.messages);
      setLoaded(true);
      const missionId = latestMissionId(history.messages);
      if (!missionId) return;
      try {
        const mission = await fetchMission(missionId);
        if (!cancelled && (mission.status === 'approved' || mission.status === 'running')) {
          setExecution({ initial: executionFromPlan(mission.id, mission.plan), labels: stepLabels(mission.plan) });
        }
      } catch {
        // Only a convenience after a reload: without it the chat still works and nothing is lost.
      }
    }
    load().catch((error: unknown) => {
      if (!cancelled) setLoadError(errorMessage(error));
    });
    void refreshSpend();
    return () => {
      cancelled = true;
    };
  }, [refreshSpend]);

  // Ready to type as soon as the conversation is there (the input is disabled until then).
  useEffect(() => {
    if (conversationId) inputRef.current?.focus();
  }, [conversationId]);

  useEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [messages, upgrade]);

  const { brief, missing } = useMemo(() => latestBrief(messages), [messages]);
  // Only the newest plan can be opened: an older one was superseded by the conversation since.
  const planMessageId = useMemo(() => latestPlanMessageId(messages), [messages]);

  async function send(): Promise<void> {
    const content = draft.trim();
    if (!content || sending || !conversationId) return;
    const tempId = `local-${++localId.current}`;
    const optimistic: ChatMessage = { id: tempId, role: 'user', content, metadata: null, created_at: new Date().toISOString() };
    setMessages((current) => [...current, optimistic]);
    setDraft('');
    setSending(true);
    try {
      const answer = await api<{ user_message: ChatMessage; assistant_message: ChatMessage }>(
        'POST',
        `/ai/conversations/${encodeURIComponent(conversationId)}/messages`,
        { message: { content } },
      );
      setMessages((current) => [...current.filter((m) => m.id !== tempId), answer.user_message, answer.assistant_message]);
      setUpgrade(null);
      if (answer.assistant_message.metadata?.brief) void refreshSpend();
    } catch (error) {
      // Put the text back so nothing typed is lost, and say why it did not go through.
      setMessages((current) => current.filter((m) => m.id !== tempId));
      setDraft((current) => current || content);
      showError(`Message not sent: ${errorMessage(error)}`);
    } finally {
      setSending(false);
      inputRef.current?.focus();
    }
  }

  function onSubmit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    void send();
  }

  function onInputKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    }
  }

  async function openPlan(missionId: string): Promise<void> {
    setModal({ missionId, mission: null, loading: true, error: null });
    try {
      const mission = await fetchMissionWithPlan(missionId);
      setModal((current) => (current?.missionId === missionId ? { ...current, mission, loading: false } : current));
    } catch (error) {
      setModal((current) => (current?.missionId === missionId ? { ...current, loading: false, error: errorMessage(error) } : current));
    }
  }

  async function approve(): Promise<void> {
    if (!modal?.mission || approving) return;
    const mission = modal.mission;
    setApproving(true);
    try {
      // 202 {mission_id, status}, or public Powernode's 200 {mission}: either way the run has begun.
      await api<unknown>('POST', `/ai/missions/${encodeURIComponent(mission.id)}/approve`);
      startExecution(mission);
    } catch (error) {
      if (!(error instanceof ApiError)) {
        showError(errorMessage(error));
      } else if (error.code === 'upgrade_required') {
        setModal(null);
        if (hasPageFault('paywall_pill_for_refused_mission')) startExecution(mission);
        else setExecution(null);
        setUpgrade({
          reason: typeof error.details?.reason === 'string' ? error.details.reason : 'max_node_instances',
          message: error.message,
          planSlug: typeof error.details?.plan_slug === 'string' ? error.details.plan_slug : 'free',
          limits: asRecord(error.details?.limits),
          usage: asRecord(error.details?.current_usage),
        });
      } else if (error.code === 'already_approved') {
        // Approved elsewhere (another tab, a double click): follow the run instead of failing.
        startExecution(mission);
      } else if (error.code === 'credentials_missing' || CREDENTIAL_ERRORS.has(error.code)) {
        setModal(null);
        showError(CREDENTIALS_TOAST);
      } else {
        showError(error.message);
      }
    } finally {
      setApproving(false);
    }
  }

  function startExecution(mission: Mission): void {
    setModal(null);
    setUpgrade(null);
    setExecution({ initial: executionFromPlan(mission.id, mission.plan), labels: stepLabels(mission.plan) });
  }

  // The worker's paywall message arrives with the mission's failure: fetch the conversation again.
  const reloadMessages = useCallback(async () => {
    if (!conversationId) return;
    try {
      const history = await api<{ messages: ChatMessage[] }>('GET', `/ai/conversations/${encodeURIComponent(conversationId)}/messages`);
      setMessages(history.messages);
    } catch (error) {
      showError(`Could not load the conversation: ${errorMessage(error)}`);
    }
  }, [conversationId, showError]);

  const onOutcome = useCallback(
    (_missionId: string, outcome: MissionOutcome) => {
      if (outcome.error_code === UPGRADE_REQUIRED) {
        // Not a failure to report: the paywall renders on the assistant's message, in place of the run.
        setExecution(null);
        void reloadMessages();
        return;
      }
      if (outcome.status === 'completed') {
        void refreshSpend();
        // Once more shortly after, in case the usage record commits just behind the event.
        setTimeout(() => void refreshSpend(), SPEND_RECHECK_MS);
        return;
      }
      if (outcome.error_code && CREDENTIAL_ERRORS.has(outcome.error_code)) showError(CREDENTIALS_TOAST);
      else showError(`Provisioning failed: ${outcome.error_message || outcome.error_code || 'unknown error'}`);
    },
    [refreshSpend, showError, reloadMessages],
  );

  return (
    <div className="provision" data-testid="provisioning-page">
      <section className="chat card" aria-labelledby="chat-title">
        <header className="chat-header">
          <h1 id="chat-title">What do you want to run?</h1>
          <p className="muted small">Describe your workload in plain words. You review the plan before anything is created.</p>
        </header>

        <ol className="messages" ref={listRef} aria-live="polite" aria-label="Conversation">
          {!loaded && !loadError && <li className="muted loading">Loading conversation…</li>}
          {loadError && (
            <li className="error-panel" role="alert">
              Could not load the conversation: {loadError}
            </li>
          )}
          {loaded && messages.length === 0 && (
            <li className="muted empty">
              For example: “I want to run my Discord moderation bot 24/7 on a small VM, about $5/mo.”
            </li>
          )}
          {messages.map((message) => (
            <MessageItem key={message.id} message={message} planReady={message.id === planMessageId} onOpenPlan={openPlan} />
          ))}
          {sending && (
            <li className="msg msg-ai typing" aria-label="Assistant is typing">
              <span />
              <span />
              <span />
            </li>
          )}
          {upgrade && (
            <li className="msg-card">
              <UpgradeRequiredCard upgrade={upgrade} onDismiss={() => setUpgrade(null)} />
            </li>
          )}
        </ol>

        <form className="composer" onSubmit={onSubmit}>
          <label htmlFor="chat-input" className="visually-hidden">
            Message
          </label>
          <textarea
            id="chat-input"
            ref={inputRef}
            data-testid="chat-input"
            rows={2}
            placeholder="Describe what you want to run…"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={onInputKeyDown}
            disabled={!conversationId}
            aria-describedby="chat-hint"
          />
          <button type="submit" className="btn btn-primary" data-testid="chat-send-btn" disabled={!conversationId || sending || !draft.trim()}>
            Send
          </button>
          <p id="chat-hint" className="muted small composer-hint">
            Enter to send · Shift+Enter for a new line
          </p>
        </form>
      </section>

      <aside className="side" aria-label="Brief">
        <BriefCard brief={brief} missing={missing} spend={spend} spendError={spendError} />
      </aside>

      {modal && (
        <PlanModal
          mission={modal.mission}
          loading={modal.loading}
          error={modal.error}
          approving={approving}
          onApprove={() => void approve()}
          onClose={() => setModal(null)}
        />
      )}

      {execution && (
        <ExecutionPill
          key={execution.initial.missionId}
          initial={execution.initial}
          labels={execution.labels}
          onOutcome={onOutcome}
          onDismiss={() => setExecution(null)}
        />
      )}
    </div>
  );
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

type MessageProps = { message: ChatMessage; planReady: boolean; onOpenPlan: (missionId: string) => void };

export function MessageItem({ message, planReady, onOpenPlan }: MessageProps) {
  const testId = message.role === 'user' ? 'msg-user' : message.role === 'assistant' ? 'msg-ai' : 'msg-system';
  const missionId = planReady ? message.metadata?.plan_ready?.mission_id : undefined;
  const upgrade = chatUpgrade(message);
  return (
    <li className={`msg ${testId}`} data-testid={testId} data-message-id={message.id}>
      <p className="msg-content">{message.content}</p>
      {upgrade && <ChatUpgradeCard upgrade={upgrade} />}
      {missionId && (
        <button type="button" className="btn btn-primary btn-small" data-testid="open-plan-button" onClick={() => onOpenPlan(missionId)}>
          Open Plan
        </button>
      )}
    </li>
  );
}
