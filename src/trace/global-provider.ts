/** Whether the application registered a global tracer provider (anything but the API's no-op one). */
import { ProxyTracerProvider, trace } from '@opentelemetry/api';

export function globalTracerProviderRegistered(): boolean {
  const global = trace.getTracerProvider();
  // The API's proxy has a delegate tracer only once a provider was registered.
  return global instanceof ProxyTracerProvider ? global.getDelegateTracer('moa-otel') !== undefined : true;
}
