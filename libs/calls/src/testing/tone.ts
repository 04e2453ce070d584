/** Sample rate of the test tones (what WebRTC's Opus decodes to). */
export const TONE_SAMPLE_RATE = 48000;

/**
 * A sine tone generator in 10 ms frames of 16-bit mono PCM (what `RTCAudioSource` wants),
 * phase-continuous across frames.
 */
export class ToneGenerator {
  private phase = 0;

  constructor(
    readonly frequencyHz: number,
    private readonly amplitude = 0.3,
    readonly sampleRate = TONE_SAMPLE_RATE,
  ) {}

  /** The next 10 ms frame. */
  nextFrame(): Int16Array {
    const n = this.sampleRate / 100;
    const frame = new Int16Array(n);
    const step = (2 * Math.PI * this.frequencyHz) / this.sampleRate;
    for (let i = 0; i < n; i++) {
      frame[i] = Math.round(Math.sin(this.phase) * this.amplitude * 32767);
      this.phase += step;
    }
    this.phase %= 2 * Math.PI;
    return frame;
  }
}

/**
 * Power of one frequency in a block of samples (Goertzel algorithm), normalised so that a
 * full-scale sine gives about 0.25 and silence 0.
 */
export function goertzelPower(
  samples: ArrayLike<number>,
  frequencyHz: number,
  sampleRate: number,
): number {
  const n = samples.length;
  if (n === 0) return 0;
  const k = Math.round((n * frequencyHz) / sampleRate);
  const w = (2 * Math.PI * k) / n;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s = samples[i] / 32768 + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return power / (n * n);
}

/** Mean power of the samples (same normalisation as {@link goertzelPower}, ×2 for a sine). */
export function meanPower(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += (samples[i] / 32768) ** 2;
  return samples.length > 0 ? sum / samples.length : 0;
}

/**
 * Which of the candidate frequencies dominates the samples: the candidate with the most power,
 * its share of all candidates' power, and each candidate's power.
 */
export function dominantFrequency(
  samples: ArrayLike<number>,
  candidatesHz: readonly number[],
  sampleRate = TONE_SAMPLE_RATE,
): { frequencyHz: number; share: number; powers: Record<number, number> } {
  const powers: Record<number, number> = {};
  let best = candidatesHz[0];
  let total = 0;
  for (const hz of candidatesHz) {
    powers[hz] = goertzelPower(samples, hz, sampleRate);
    total += powers[hz];
    if (powers[hz] > powers[best]) best = hz;
  }
  return { frequencyHz: best, share: total > 0 ? powers[best] / total : 0, powers };
}
