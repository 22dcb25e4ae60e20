import { z } from 'zod';

/**
 * Where a Vertex AI backend runs: the Google Cloud project and location of its batch prediction jobs, and the Cloud
 * Storage bucket (and the folder in it) that holds their inputs, outputs and reference images.
 */
export const vertexSettingsSchema = z
  .object({
    project: z.string().min(1).optional().describe('the Google Cloud project ID (not its name or number) the jobs run and are billed in'),
    location: z
      .string().min(1).default('global')
      .describe('the Vertex AI location of the jobs: global, or a region such as us-central1 (the models must be served there)'),
    bucket: z
      .string().min(1).optional()
      .refine((name) => !name?.startsWith('gs://'), { message: 'the bucket\'s name alone, without gs://' })
      // Cloud Storage's naming rules (3 to 222 characters of lowercase letters, digits, -, _ and .), checked before
      // anything is spent rather than at the first upload.
      .refine((name) => name === undefined || name.startsWith('gs://') || /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(name), {
        message: 'a Cloud Storage bucket name: 3 to 222 lowercase letters, digits, -, _ and ., starting and ending with a letter or digit',
      })
      .describe('the Cloud Storage bucket for request files, results and reference images (its name, without gs://)'),
    prefix: z
      .string().min(1).default('chargen')
      .refine((prefix) => !prefix.startsWith('/') && !prefix.endsWith('/'), { message: 'a folder path without a leading or trailing /' })
      .describe('the folder in the bucket chargen writes under: <prefix>/<workspace id>/…'),
  })
  .strict();

export type VertexSettings = z.infer<typeof vertexSettingsSchema>;

/** Where a Vertex AI backend runs, every part known: what `backend: "vertex"` needs before anything starts. */
export interface VertexTarget {
  project: string;
  location: string;
  bucket: string;
  prefix: string;
}

/** Pure: the settings as a target, or undefined while the project or the bucket is not set. */
export function toVertexTarget(settings: VertexSettings): VertexTarget | undefined {
  const { project, location, bucket, prefix } = settings;
  return project === undefined || bucket === undefined ? undefined : { project, location, bucket, prefix };
}

/** Pure: a Vertex AI target as people name it: `Vertex AI (project p, location l, gs://bucket/prefix)`. */
export function describeVertexTarget(target: VertexTarget): string {
  return `Vertex AI (project ${target.project}, location ${target.location}, gs://${target.bucket}/${target.prefix})`;
}
