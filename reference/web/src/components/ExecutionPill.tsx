import { useMissionStream, type ExecStep, type Execution, type MissionOutcome } from '../useMissionStream';
import { hasPageFault } from '../faults';
import { hasVariant } from '../variants';

export function pillText(execution: Execution): string {
  const total = execution.steps.length;
  const stale = hasPageFault('pill_count_stale');
  const done = stale ? 0 : execution.steps.filter((s) => s.status === 'completed').length;
  if (execution.status === 'completed') return `Provisioned · ${stale ? 0 : total} of ${total} steps`;
  if (execution.status === 'failed') return `Provisioning failed · ${done} of ${total} steps`;
  return `Provisioning… ${done} of ${total} steps`;
}

type Props = {
  initial: Execution;
  labels: Record<string, string>;
  onOutcome: (missionId: string, outcome: MissionOutcome) => void;
  onDismiss: () => void;
};

/**
 * Fixed bottom-right. Step names are drawn by CSS from data attributes so the pill's own text stays
 * exactly "Provisioning… X of Y steps" while each step still shows its name and status. Under the
 * step_stream_core variant (public Powernode) the pill holds the count only, and the steps live in
 * a step progress stream beside it.
 */
export function ExecutionPill({ initial, labels, onOutcome, onDismiss }: Props) {
  const execution = useMissionStream(initial, onOutcome);
  return <ExecutionView execution={execution} labels={labels} onDismiss={onDismiss} />;
}

function stepLabel(step: ExecStep, labels: Record<string, string>): string {
  return labels[step.step_id] || step.skill || step.step_id;
}

/** What the pill draws for one state of the execution (rendered on its own in tests). */
export function ExecutionView({ execution, labels, onDismiss }: { execution: Execution; labels: Record<string, string>; onDismiss: () => void }) {
  const finished = execution.status === 'completed' || execution.status === 'failed';
  const stream = hasVariant('step_stream_core');

  const pill = (
    <div
      className={`execution-pill pill-${execution.status}`}
      data-testid="execution-pill"
      data-mission-id={execution.missionId}
      data-status={execution.status}
      role="status"
      aria-live="polite"
    >
      <span className="pill-headline">
        <span className="pill-dot" aria-hidden="true" />
        <span className="pill-text">{pillText(execution)}</span>
      </span>
      {!stream && (
        <ol className="pill-steps" aria-label="Steps">
          {execution.steps.map((step) => {
            const label = stepLabel(step, labels);
            return (
              <li
                key={step.step_id}
                className={`pill-step step-${step.status}`}
                data-testid={`execution-step-${step.step_id}`}
                data-status={step.status}
                data-label={label}
                aria-label={`${label}: ${step.status}`}
              />
            );
          })}
        </ol>
      )}
      {finished && (
        <button type="button" className="pill-close" aria-label="Hide provisioning status" onClick={onDismiss} />
      )}
    </div>
  );
  if (!stream) return pill;
  return (
    <>
      <section className="step-progress-stream" data-testid="step-progress-stream" aria-label="Step progress">
        <ol className="pill-steps">
          {execution.steps.map((step) => {
            const label = stepLabel(step, labels);
            return (
              <li
                key={step.step_id}
                className={`pill-step step-${step.status}`}
                data-testid={`step-${step.step_id}`}
                data-status={step.status}
                data-label={label}
                aria-label={`${label}: ${step.status}`}
              />
            );
          })}
        </ol>
      </section>
      {pill}
    </>
  );
}
