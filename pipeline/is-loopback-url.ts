/** Whether a base URL is this machine (an emulator, a recording proxy): its jobs finish in seconds, not hours. */
export function isLoopbackUrl(url: string | undefined): boolean {
  return url !== undefined && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/.test(url);
}
