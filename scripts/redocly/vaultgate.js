// Vaultgate's own lint rules for the contract (redocly.yaml turns them on), the house rules the built-in
// and configurable rules cannot state: each needs a sibling field (the tag, `security`) or a followed $ref.
// Each rule reports where a reader fixes it; tests/contract/test_spec_lint.py proves every one fires.

const PROBLEM = '#/components/schemas/Problem';
const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const VERB = /^[a-z][a-z0-9_]*$/;
// A stream or an upload is no MCP tool: a tool answers one JSON value and takes JSON arguments.
const NOT_FOR_MCP = ['multipart/form-data', 'text/event-stream'];

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

// The gateway reads the scope and cost from the spec (openapi/EXTENSIONS.md); a missing one is a hole.
function OperationScopeAndCost() {
  return {
    Operation(operation, ctx) {
      const open = Array.isArray(operation.security) && operation.security.length === 0;
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

function McpOffForStreamsAndUploads() {
  return {
    Operation(operation, ctx) {
      const used = mediaTypes(ctx, operation.requestBody);
      for (const response of Object.values(operation.responses || {})) {
        used.push(...mediaTypes(ctx, response));
      }
      const offending = used.filter((type) => NOT_FOR_MCP.includes(type));
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

// RFC 9457 on every error: clients parse one shape (with `code` and `request_id`) whatever failed.
function ProblemErrorResponses() {
  return {
    Operation(operation, ctx) {
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
