/** What a scenario hands back to the runner: its tables, its target checks and notes. */
import { table } from './stats.js';

/** One target check, as printed and written into the docs. */
export interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean;
}

export interface ScenarioReport {
  readonly id: string;
  readonly title: string;
  /** Sizes, durations and settings, in one or two sentences. */
  readonly setup: string;
  /** Markdown tables. */
  readonly tables: readonly string[];
  readonly verdicts: readonly Verdict[];
  readonly notes: readonly string[];
}

/** Options every scenario receives. */
export interface BenchOptions {
  /** Scenario 5: run the full 1M sessions instead of the default count. */
  readonly full: boolean;
}

export function renderReport(report: ScenarioReport): string {
  const parts = [`### ${report.id}. ${report.title}`, '', report.setup, ''];
  for (const t of report.tables) parts.push(t, '');
  if (report.verdicts.length > 0) {
    parts.push(
      table(
        ['target', 'measured', 'result'],
        report.verdicts.map((v) => [v.target, v.measured, v.pass ? 'PASS' : 'MISS']),
      ),
      '',
    );
  }
  for (const note of report.notes) parts.push(`- ${note}`);
  if (report.notes.length > 0) parts.push('');
  return parts.join('\n');
}
