/** Exact decimal sums live with the record arithmetic; re-exported for the offline tools. */
export * from '../record/decimal.js';
