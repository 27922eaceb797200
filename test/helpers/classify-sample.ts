import { OipClient, type Classified } from '../../src/tools/cli/oip-client.ts';
import { loadSample } from '../../src/runtime/sample.ts';

/** `requests` sequential requests of `n` consecutive sample images each (28x28 packages) through the router at `address`. */
export async function classifySample(address: string, requests: number, n: number): Promise<Classified[]> {
  const client = new OipClient(address);
  const s = loadSample();
  const answers: Classified[] = [];
  try {
    for (let r = 0; r < requests; r++) {
      answers.push(await client.classify(s.images.subarray(r * n * 784, (r + 1) * n * 784), n, { timeoutMs: 30_000 }));
    }
  } finally {
    client.close();
  }
  return answers;
}
