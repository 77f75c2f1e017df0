import { useMissionStream, type Execution, type MissionOutcome } from '../useMissionStream';

export function pillText(execution: Execution): string {
  const total = execution.steps.length;
  const done = execution.steps.filter((s) => s.status === 'completed').length;
  if (execution.status === 'completed') return `Provisioned · ${total} of ${total} steps`;
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
 * exactly "Provisioning… X of Y steps" while each step still shows its name and status.
 */
export function ExecutionPill({ initial, labels, onOutcome, onDismiss }: Props) {
  const execution = useMissionStream(initial, onOutcome);
  const finished = execution.status === 'completed' || execution.status === 'failed';

  return (
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
      <ol className="pill-steps" aria-label="Steps">
        {execution.steps.map((step) => {
          const label = labels[step.step_id] || step.skill || step.step_id;
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
      {finished && (
        <button type="button" className="pill-close" aria-label="Hide provisioning status" onClick={onDismiss} />
      )}
    </div>
  );
}
