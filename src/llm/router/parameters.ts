/**
 * Fits a request's sampling parameters to what the target model declares it
 * accepts, so a value the provider would refuse is never sent: the front
 * matter allows temperature 0–2, Anthropic takes 0–1, and some models take
 * only their default.
 */
import type { GenerateRequest, ModelInfo } from '../provider-spec/contract.ts';

export function fitTemperature(temperature: number | undefined, model: ModelInfo): GenerateRequest['temperature'] {
  if (temperature === undefined || model.temperature === undefined) return temperature;
  if (model.temperature === false) return undefined;
  return Math.min(Math.max(temperature, 0), model.temperature.max);
}
