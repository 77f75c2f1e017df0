/**
 * What the Brief Card prints (CONTRACT 3, CONTRACT 9 `brief_core`): its heading, and the scale,
 * "1→1 · flat" in the runbook, "1→1 users · flat" on public Powernode. The raw `data-value`s are
 * the same in both.
 */
export type BriefScale = { initial?: number | string; target?: number | string; growth_profile?: unknown };

export type BriefCardFormat = {
  heading: string;
  scaleText(scale: BriefScale): string;
};

function scaleText(scale: BriefScale, unit: string): string {
  const initial = String(scale.initial ?? '?');
  const span = `${initial}→${String(scale.target ?? initial)}${unit}`;
  return typeof scale.growth_profile === 'string' && scale.growth_profile ? `${span} · ${scale.growth_profile}` : span;
}

export const BRIEF_CARD_FORMATS = {
  runbook: { heading: 'Brief', scaleText: (scale) => scaleText(scale, '') },
  core: { heading: 'Project brief', scaleText: (scale) => scaleText(scale, ' users') },
} satisfies Record<string, BriefCardFormat>;

export type BriefCardFormatName = keyof typeof BRIEF_CARD_FORMATS;
