/**
 * files.getUploadURLExternal → POST bytes to the upload URL → files.completeUploadExternal,
 * the three steps of WebClient's filesUploadV2.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentType, fail, ok, parseArgs, readBody, str, type Handler } from './http.js';
import type { Workspace } from './state.js';
import type { Upload } from './types.js';

export class Files {
  private pending = new Map<string, { filename: string; length: number; bytes?: Buffer }>();
  private completed = new Set<string>();
  private counter = 0;

  constructor(private readonly ws: Workspace) {}

  handlers(): Record<string, Handler> {
    const ws = this.ws;
    return {
      'files.getUploadURLExternal': (args) => {
        const filename = str(args['filename']);
        const length = Number(args['length']);
        if (!filename || !Number.isFinite(length) || length < 0) return fail('invalid_arguments');
        this.counter += 1;
        const fileId = `F0EMU${String(this.counter).padStart(6, '0')}`;
        this.pending.set(fileId, { filename, length });
        return ok({ upload_url: `${ws.origin}/upload/v1/${fileId}`, file_id: fileId });
      },
      'files.completeUploadExternal': (args) => {
        const files = args['files'];
        if (!Array.isArray(files) || files.length === 0) return fail('invalid_arguments');
        const channel = str(args['channel_id']);
        if (channel) {
          const err = ws.channelError(channel);
          if (err) return err;
        }
        for (const f of files) {
          const p = this.pending.get(f?.id);
          // Completing a file that was never announced or never uploaded: Slack answers file_not_found.
          if (!p || !p.bytes || this.completed.has(f.id)) return fail('file_not_found');
        }
        const threadTs = str(args['thread_ts']);
        const initialComment = str(args['initial_comment']);
        const out: Record<string, unknown>[] = [];
        const shared: { id: string; name: string; title: string }[] = [];
        const nowSec = Math.floor(ws.now() / 1000);
        for (const f of files) {
          const p = this.pending.get(f.id)!;
          this.completed.add(f.id);
          const title = str(f.title) ?? p.filename;
          const u: Upload = { fileId: f.id, filename: p.filename, bytes: p.bytes!, title };
          if (channel) u.channel = channel;
          if (threadTs) u.threadTs = threadTs;
          if (initialComment) u.initialComment = initialComment;
          ws.uploads.push(u);
          shared.push({ id: f.id, name: p.filename, title });
          const file = encodeURIComponent(p.filename);
          out.push({
            id: f.id,
            created: nowSec,
            timestamp: nowSec,
            name: p.filename,
            title,
            mimetype: p.filename.endsWith('.txt') || p.filename.endsWith('.log') ? 'text/plain' : 'application/octet-stream',
            size: p.bytes!.length,
            user: ws.id.botUserId,
            url_private: `${ws.origin}/files/${f.id}/${file}`,
            permalink: `https://emulated.slack.com/files/${ws.id.botUserId}/${f.id}/${file}`,
          });
        }
        if (channel) {
          // Slack shares the files as a message in the channel (or thread).
          ws.storeMessage(channel, {
            text: initialComment ?? '',
            subtype: 'file_share',
            files: shared,
            ...(threadTs ? { thread_ts: threadTs } : {}),
          });
        }
        return ok({ files: out });
      },
    };
  }

  /** The upload step: the bytes POSTed to the URL getUploadURLExternal handed out. */
  async handleUpload(req: IncomingMessage, res: ServerResponse, fileId: string): Promise<void> {
    const raw = await readBody(req);
    const p = this.pending.get(fileId);
    if (!p || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    let bytes = raw;
    if (contentType(req) === 'multipart/form-data') {
      // WebClient's filesUploadV2 posts multipart with the bytes in a field named `body`.
      const args = await parseArgs(req, raw, new URLSearchParams());
      const file = Buffer.isBuffer(args['body']) ? args['body'] : Object.values(args).find((v): v is Buffer => Buffer.isBuffer(v));
      if (file) bytes = file;
    }
    if (bytes.length !== p.length) {
      // The length announced to getUploadURLExternal must be the bytes sent.
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`length mismatch: announced ${p.length}, received ${bytes.length}`);
      return;
    }
    p.bytes = bytes;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`OK - ${bytes.length}`);
  }

  reset(): void {
    this.pending.clear();
    this.completed.clear();
  }
}
