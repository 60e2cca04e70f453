import type { HttpBindings } from '@hono/node-server';
import type { OperationContext } from '../core/context.js';

export type AppEnv = { Bindings: HttpBindings; Variables: { ctx: OperationContext } };
