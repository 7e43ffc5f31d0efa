import { createWriteStream } from 'node:fs';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer } from '../../mcp/mcp-server.js';
import { EXIT } from '../exit-codes.js';
import { openRunControl } from '../open-run-control.js';
import { WEFT_VERSION } from '../version.js';

export interface McpCommandOptions {
  /** The folder served: projects and plan files must be inside it. @default the current folder */
  readonly dir?: string;
}

/**
 * `weft mcp`: the MCP server on stdio. stdout carries the protocol only: whatever else in this
 * process would print there (the planner's progress) goes to stderr instead.
 */
export async function mcpCommand(opts: McpCommandOptions): Promise<number> {
  const protocolOut = createWriteStream('', { fd: 1 });
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const control = await openRunControl(opts.dir ?? process.cwd());
  const server = createMcpServer(control, { version: WEFT_VERSION });
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = ((previous) => () => {
      previous?.();
      resolve();
    })(server.server.onclose);
  });
  await server.connect(new StdioServerTransport(process.stdin, protocolOut));
  // The client closing stdin ends the session; runs started from it go on.
  process.stdin.once('end', () => void server.close());
  await closed;
  await control.close();
  return EXIT.ok;
}
