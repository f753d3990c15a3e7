/**
 * What may go into an HTTP header we send (the OTLP exporter's headers). A
 * CR or LF in a value would end the header early and let the rest be read as
 * further headers or a body, so such values are refused at config time
 * rather than left to the HTTP stack (which throws at the first export).
 */

// RFC 9110 §5.6.2: a field name is a token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// RFC 9110 §5.5: visible characters, space, tab and obs-text; no other control character.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Why a header cannot be sent, or undefined when it can. Never quotes the value. */
export function headerProblem(name: string, value: string): string | undefined {
  if (!TOKEN.test(name)) return `header name ${JSON.stringify(name.slice(0, 40))} is not a valid HTTP field name`;
  if (CONTROL.test(value)) {
    return /[\r\n]/.test(value)
      ? `the value of header "${name}" holds a line break (CR or LF)`
      : `the value of header "${name}" holds a control character`;
  }
  return undefined;
}
