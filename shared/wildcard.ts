/**
 * A trigger's `metric` or `feature_id` that matches every metric or feature. A module of its
 * own, so the prompt engine (bundled into the widget, no zod) and the prompt schemas
 * (`prompts.ts`, zod) both use it without importing each other.
 */
export const ANY = '*';
