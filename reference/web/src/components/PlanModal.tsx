import { useEffect, useRef, type KeyboardEvent } from 'react';
import { collapseNote, perMonth, riskText, toNumber } from '../format';
import { hasPageFault } from '../faults';
import { layoutPlan } from '../topology';
import type { Mission, MissionPlan } from '../types';

type Props = {
  mission: Mission | null;
  loading: boolean;
  error: string | null;
  approving: boolean;
  onApprove: () => void;
  onClose: () => void;
};

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])';

export function PlanModal({ mission, loading, error, approving, onApprove, onClose }: Props) {
  const dialogRef = useRef<HTMLDivElement>(null);
  const plan = mission?.plan ?? null;

  // Focus moves into the dialog on open and back to whatever opened it on close.
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialogRef.current?.focus();
    return () => opener?.focus();
  }, []);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>): void {
    if (event.key === 'Escape') {
      event.stopPropagation();
      onClose();
      return;
    }
    if (event.key !== 'Tab' || !dialogRef.current) return;
    const focusable = Array.from(dialogRef.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    if (focusable.length === 0) {
      event.preventDefault();
      return;
    }
    const first = focusable[0]!;
    const last = focusable[focusable.length - 1]!;
    const active = document.activeElement;
    if (event.shiftKey && (active === first || active === dialogRef.current)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={dialogRef}
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="plan-title"
        aria-describedby="plan-subtitle"
        data-testid="provisioning-plan-review"
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <header className="modal-header">
          <div>
            <h2 id="plan-title">Review plan</h2>
            <p id="plan-subtitle" className="muted small">
              {mission?.brief?.intent ?? 'Check the steps, cost and risk before anything is created.'}
            </p>
          </div>
          <button type="button" className="icon-btn" aria-label="Close plan" onClick={onClose}>
            ×
          </button>
        </header>

        <div className="modal-body">
          {loading && <p className="muted loading">Loading plan…</p>}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          {plan && <PlanDetails plan={plan} />}
        </div>

        <footer className="modal-footer">
          <button type="button" className="btn btn-ghost" data-testid="provisioning-reject-btn" onClick={onClose}>
            Reject
          </button>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="provisioning-approve-btn"
            disabled={!plan || approving}
            aria-busy={approving}
            onClick={onApprove}
          >
            Approve &amp; Provision
          </button>
        </footer>
      </div>
    </div>
  );
}

function PlanDetails({ plan }: { plan: MissionPlan }) {
  const nodes = plan.dag.nodes;
  const stepCount = plan.dag.step_count ?? nodes.length;
  const collapse = plan.step_collapse;

  return (
    <>
      <section className="plan-section" data-testid="provisioning-steps" aria-labelledby="plan-steps-title">
        <h3 id="plan-steps-title">
          Steps{' '}
          <span className="badge" data-testid="provisioning-steps-count" aria-label={`${stepCount} ${stepCount === 1 ? 'step' : 'steps'}`}>
            {stepCount}
          </span>
        </h3>
        {collapse && (
          <p className="note" data-testid="step-collapse-note">
            {collapseNote(collapse.original_step_count, collapse.collapsed_step_count)}
          </p>
        )}
        <ol className="plan-steps">
          {nodes.map((node, index) => (
            <li key={node.id} className="plan-step" data-testid={`provisioning-step-${node.id}`} data-skill={node.skill}>
              <span className="plan-step-index" aria-hidden="true">
                {index + 1}
              </span>
              <div>
                <p className="plan-step-label">{node.label || node.skill}</p>
                <p className="muted small">
                  <code>{node.skill}</code>
                  {node.params?.region && ` · ${node.params.region}`}
                  {node.params?.instance_type && ` · ${node.params.instance_type}`}
                  {node.params?.template && ` · ${node.params.template}`}
                  {node.params?.count !== undefined && ` · ×${node.params.count}`}
                </p>
              </div>
            </li>
          ))}
        </ol>
      </section>

      <section className="plan-section" aria-labelledby="plan-topology-title">
        <h3 id="plan-topology-title">Topology</h3>
        <Topology plan={plan} />
      </section>

      <div className="plan-columns">
        <section className="plan-section" data-testid="cost-breakdown" aria-labelledby="plan-cost-title">
          <h3 id="plan-cost-title">Estimated cost</h3>
          <ul className="cost-lines">
            {plan.cost_estimate.lines.map((line, index) => (
              <li key={`${line.name}-${index}`} className="cost-line" data-testid="cost-line">
                <span>
                  {line.name}
                  {line.count !== undefined && line.count !== 1 && <span className="muted"> ×{line.count}</span>}
                </span>{' '}
                <span className="amount">{perMonth(toNumber(line.monthly_usd))}</span>
              </li>
            ))}
          </ul>
          <p className="cost-total">
            <span>Total</span>
            <strong data-testid="cost-total-monthly">{perMonth(toNumber(plan.cost_estimate.monthly_usd))}</strong>
          </p>
          {plan.cost_estimate.hours_per_month !== undefined && (
            <p className="muted small">Based on {plan.cost_estimate.hours_per_month} hours a month.</p>
          )}
        </section>

        <section className="plan-section" aria-labelledby="plan-risk-title">
          <h3 id="plan-risk-title">Risk</h3>
          <p className={`risk risk-${plan.risk.severity}`} data-testid="provisioning-risk" data-severity={plan.risk.severity}>
            {riskText(hasPageFault('risk_badge_text_wrong') ? 'high' : plan.risk.severity, plan.risk.score)}
          </p>
          {plan.risk.factors && plan.risk.factors.length > 0 && (
            <ul className="risk-factors muted small">
              {plan.risk.factors.map((factor, index) => (
                <li key={index}>{describeFactor(factor)}</li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </>
  );
}

function describeFactor(factor: unknown): string {
  if (typeof factor === 'string') return factor;
  if (typeof factor === 'object' && factor !== null) {
    const record = factor as Record<string, unknown>;
    for (const key of ['label', 'description', 'message', 'name', 'code']) {
      if (typeof record[key] === 'string') return record[key] as string;
    }
  }
  return JSON.stringify(factor);
}

const NODE_W = 168;
const NODE_H = 44;
const GAP_X = 56;
const GAP_Y = 18;
const PAD = 8;

function Topology({ plan }: { plan: MissionPlan }) {
  const layout = layoutPlan(plan.dag.nodes, plan.dag.edges);
  const width = Math.max(1, layout.columns) * (NODE_W + GAP_X) - GAP_X + PAD * 2;
  const height = Math.max(1, layout.rows) * (NODE_H + GAP_Y) - GAP_Y + PAD * 2;
  const position = new Map(
    layout.nodes.map((n) => [n.id, { x: PAD + n.column * (NODE_W + GAP_X), y: PAD + n.row * (NODE_H + GAP_Y) }]),
  );
  const summary =
    layout.nodes.length === 1
      ? `One step: ${layout.nodes[0]!.label}`
      : `${layout.nodes.length} steps, ${layout.edges.length} dependencies`;

  return (
    <div className="topology" data-testid="provisioning-topology">
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={summary}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" className="topology-arrow" />
          </marker>
        </defs>
        {layout.edges.map((edge) => {
          const from = position.get(edge.from);
          const to = position.get(edge.to);
          if (!from || !to) return null;
          return (
            <line
              key={`${edge.from}-${edge.to}`}
              className="topology-edge"
              x1={from.x + NODE_W}
              y1={from.y + NODE_H / 2}
              x2={to.x}
              y2={to.y + NODE_H / 2}
              markerEnd="url(#arrow)"
            />
          );
        })}
        {layout.nodes.map((node) => {
          const at = position.get(node.id)!;
          return (
            <g key={node.id} transform={`translate(${at.x} ${at.y})`} className="topology-node">
              <rect width={NODE_W} height={NODE_H} rx={10} />
              <text x={NODE_W / 2} y={NODE_H / 2} dominantBaseline="central" textAnchor="middle">
                {truncate(node.skill, 24)}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
