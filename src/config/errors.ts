/**
 * The one error type of bad configuration. Its message is a single line that
 * names the key (or variable, or file), where it came from and what was
 * expected, and never echoes a credential.
 */
export class MoaConfigError extends Error {
  override readonly name = 'MoaConfigError';
}
