// Vaultgate's own lint rules for the contract (redocly.yaml turns them on), the house rules the built-in
// and configurable rules cannot state: each needs a sibling field (the tag, `security`) or a followed $ref.
// Each rule reports where a reader fixes it; tests/contract/test_spec_lint.py proves every one fires.

const PROBLEM = '#/components/schemas/Problem';
const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const VERB = /^[a-z][a-z0-9_]*$/;
// A stream or an upload is no MCP tool: a tool answers one JSON value and takes JSON arguments. Any
// `multipart/*` counts too, in either direction; raw bytes only as a request body (a tool may not take them,
// though it could answer them as a resource).
const STREAMS = [
  'text/event-stream',
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/json-seq',
];
const RAW_UPLOADS = ['application/octet-stream'];

// operationId is `<tag>.<verb>`: the MCP tool name and the handler `handlers/<tag>.py:<verb>` derive from it.
function OperationIdTagVerb() {
  return {
    Operation(operation, ctx) {
      const tags = operation.tags || [];
      if (tags.length !== 1) {
        ctx.report({
          message: `An operation has exactly one tag (its handler module); found ${tags.length}.`,
          location: ctx.location.child('tags'),
        });
        return;
      }
      const [tag, verb, ...rest] = String(operation.operationId || '').split('.');
      if (tag !== tags[0] || !VERB.test(verb || '') || rest.length > 0) {
        ctx.report({
          message: `operationId must be \`${tags[0]}.<verb>\` (verb in snake_case), not \`${operation.operationId}\`.`,
          location: ctx.location.child('operationId'),
        });
      }
    },
  };
}

// The gateway reads the scope and cost from the spec (openapi/EXTENSIONS.md); a missing one is a hole. An
// operation without credentials needs no scope, but is one only by review: dropping `security` (or a security
// requirement of `{}`) would otherwise turn any write public and silence this rule with it, so only the
// operationIds listed in redocly.yaml's `public` option may be public.
function OperationScopeAndCost(options) {
  const allowed = new Set((options && options.public) || []);
  let rootSecurity;
  return {
    Root: {
      enter(root) {
        rootSecurity = root.security;
      },
    },
    Operation(operation, ctx) {
      const security = Array.isArray(operation.security) ? operation.security : rootSecurity;
      const open =
        !Array.isArray(security) ||
        security.length === 0 ||
        security.some((requirement) => Object.keys(requirement || {}).length === 0);
      if (open && !allowed.has(operation.operationId)) {
        ctx.report({
          message:
            `\`${operation.operationId}\` is callable without credentials but not in the rule's ` +
            '`public` list (redocly.yaml): add it there only after a security review.',
          location: ctx.location.key(),
        });
      }
      if (!open && typeof operation['x-scope'] !== 'string') {
        ctx.report({
          message: 'Every operation with credentials names its scope in `x-scope`.',
          location: ctx.location.key(),
        });
      }
      const cost = operation['x-cost'];
      if (!Number.isInteger(cost) || cost < 0) {
        ctx.report({
          message: 'Every operation draws an `x-cost`: an integer, 0 or more.',
          location: ctx.location.key(),
        });
      }
    },
  };
}

function mediaTypes(ctx, node) {
  const resolved = node && ctx.resolve(node).node;
  return Object.keys((resolved && resolved.content) || {});
}

// The media type without its parameters (`; charset=utf-8`), lower-cased: what a client negotiates on.
function essence(type) {
  return type.split(';')[0].trim().toLowerCase();
}

function notForMcp(type, inRequest) {
  const bare = essence(type);
  return (
    bare.startsWith('multipart/') ||
    STREAMS.includes(bare) ||
    (inRequest && RAW_UPLOADS.includes(bare))
  );
}

function McpOffForStreamsAndUploads() {
  return {
    Operation(operation, ctx) {
      const offending = mediaTypes(ctx, operation.requestBody).filter((type) => notForMcp(type, true));
      for (const response of Object.values(operation.responses || {})) {
        offending.push(...mediaTypes(ctx, response).filter((type) => notForMcp(type, false)));
      }
      if (offending.length > 0 && operation['x-mcp'] !== false) {
        ctx.report({
          message: `An operation using ${offending[0]} needs \`x-mcp: false\`: no MCP tool can carry it.`,
          location: ctx.location.key(),
        });
      }
    },
  };
}

// True when the schema is Problem, or a schema that is Problem extended with allOf.
function isProblem(ctx, schema, seen = new Set()) {
  if (!schema || seen.has(schema)) return false;
  seen.add(schema);
  if (schema.$ref === PROBLEM) return true;
  const resolved = ctx.resolve(schema).node;
  return (resolved.allOf || []).some((part) => isProblem(ctx, part, seen));
}

// Problem's properties that an allOf part beside it gives another type: no value satisfies both, so the
// extension cannot be answered, and a generated client types the field one way while the other is documented.
function problemRedefinitions(ctx, schema, problem, seen = new Set()) {
  if (!schema || seen.has(schema) || schema.$ref === PROBLEM) return [];
  seen.add(schema);
  const resolved = ctx.resolve(schema).node || {};
  const clashes = [];
  for (const [name, property] of Object.entries(resolved.properties || {})) {
    const own = problem.properties && problem.properties[name];
    const type = property && ctx.resolve(property).node.type;
    if (own && type !== undefined && own.type !== undefined && type !== own.type) clashes.push(name);
  }
  for (const part of resolved.allOf || []) clashes.push(...problemRedefinitions(ctx, part, problem, seen));
  return clashes;
}

// RFC 9457 on every error: clients parse one shape (with `code` and `request_id`) whatever failed.
function ProblemErrorResponses() {
  return {
    Operation(operation, ctx) {
      const problem = ctx.resolve({ $ref: PROBLEM }).node || {};
      for (const [status, response] of Object.entries(operation.responses || {})) {
        if (!/^[45]/.test(status) && status !== 'default') continue;
        const content = ctx.resolve(response).node.content || {};
        const types = Object.keys(content);
        const media = content[PROBLEM_MEDIA_TYPE];
        if (types.length !== 1 || !media || !isProblem(ctx, media.schema)) {
          ctx.report({
            message: `A ${status} answers only ${PROBLEM_MEDIA_TYPE} with the shared Problem schema; found ${types.join(', ') || 'no content'}.`,
            location: ctx.location.child(['responses', status]),
          });
          continue;
        }
        const clashes = problemRedefinitions(ctx, media.schema, problem);
        if (clashes.length > 0) {
          ctx.report({
            message: `A ${status} extends Problem but gives ${clashes.join(', ')} another type than Problem does.`,
            location: ctx.location.child(['responses', status]),
          });
        }
      }
    },
  };
}

// A property's meaning is what the name alone does not say (units, when null, what it refers to). With a $ref
// the referenced schema's description serves (OpenAPI 3.0 ignores a $ref's siblings).
function PropertyDescription() {
  return {
    Schema(schema, ctx) {
      for (const [name, property] of Object.entries(schema.properties || {})) {
        const described = property.description || (property.$ref && ctx.resolve(property).node.description);
        if (!described || !String(described).trim()) {
          ctx.report({
            message: `Property \`${name}\` has no description.`,
            location: ctx.location.child(['properties', name]).key(),
          });
        }
      }
    },
  };
}

// Why a value breaks a (header's) primitive schema, or null: Redocly checks media-type, parameter and schema
// examples, not a header's. Headers here are scalars, so type, enum, length, pattern and bounds say it all.
function scalarMismatch(value, schema) {
  const kinds = {
    string: (v) => typeof v === 'string',
    integer: (v) => Number.isInteger(v),
    number: (v) => typeof v === 'number' && Number.isFinite(v),
    boolean: (v) => typeof v === 'boolean',
    array: (v) => Array.isArray(v),
    object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  };
  if (schema.type && kinds[schema.type] && !kinds[schema.type](value)) return `is not of type ${schema.type}`;
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => option === value)) return 'is not in its enum';
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) return `is shorter than ${schema.minLength}`;
    if (schema.maxLength !== undefined && length > schema.maxLength) return `is longer than ${schema.maxLength}`;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      return `does not match ${schema.pattern}`;
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `is below ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `is above ${schema.maximum}`;
  }
  return null;
}

function HeaderExamples() {
  return {
    Header(header, ctx) {
      const schema = header.schema && ctx.resolve(header.schema).node;
      if (!schema) return;
      const examples = [];
      if (header.example !== undefined) examples.push([header.example, ctx.location.child('example')]);
      for (const [name, example] of Object.entries(header.examples || {})) {
        const resolved = ctx.resolve(example).node;
        if (resolved && resolved.value !== undefined) {
          examples.push([resolved.value, ctx.location.child(['examples', name, 'value'])]);
        }
      }
      for (const [value, location] of examples) {
        const mismatch = scalarMismatch(value, schema);
        if (mismatch) ctx.report({ message: `The header's example ${mismatch}.`, location });
      }
    },
  };
}

module.exports = function vaultgatePlugin() {
  return {
    id: 'vaultgate',
    rules: {
      oas3: {
        'operation-id-tag-verb': OperationIdTagVerb,
        'operation-scope-and-cost': OperationScopeAndCost,
        'mcp-off-for-streams-and-uploads': McpOffForStreamsAndUploads,
        'problem-error-responses': ProblemErrorResponses,
        'property-description': PropertyDescription,
        'header-examples': HeaderExamples,
      },
    },
    typeExtension: {
      // `x-sse-events` maps each event name of a stream to the schema of its `data`: typed, its refs are
      // resolved, its examples and properties linted, and the event schemas count as used.
      oas3(types) {
        return {
          ...types,
          Operation: {
            ...types.Operation,
            properties: { ...types.Operation.properties, 'x-sse-events': 'SseEventsMap' },
          },
          SseEventsMap: { properties: {}, additionalProperties: 'Schema' },
        };
      },
    },
  };
};
