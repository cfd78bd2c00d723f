import { writeFileSync } from 'node:fs';

// A wrk Lua script that POSTs `body` (or GETs, without one) to a rotation of targets (path +
// optional bearer token), each request under a fresh Idempotency-Key. Threads take alternate
// targets, so the requests in flight at once go to different targets as long as there are more
// targets than connections.

export interface ScriptTarget {
  path: string;
  token?: string;
}

const luaString = (value: string) => JSON.stringify(value); // a JSON string of ASCII is a valid Lua string

/** Writes the script; run it with arguments `<key prefix unique to the run> <thread count>`. */
export function writeRotationScript(file: string, targets: ScriptTarget[], body: string | undefined): string {
  const entries = targets.map((t) => `  {${luaString(t.path)}, ${luaString(t.token ? `Bearer ${t.token}` : '')}},`).join('\n');
  writeFileSync(
    file,
    `local targets = {
${entries}
}
local method = ${luaString(body === undefined ? 'GET' : 'POST')}
local body = ${body === undefined ? 'nil' : luaString(body)}
local created = 0
local sent = 0

function setup(thread)
  thread:set("tid", created)
  created = created + 1
end

function init(args)
  prefix = args[1] .. "-" .. tid
  nthreads = tonumber(args[2])
end

function request()
  local i = sent * nthreads + tid
  sent = sent + 1
  local target = targets[(i % #targets) + 1]
  local headers = { ["content-type"] = "application/json", ["idempotency-key"] = prefix .. "-" .. sent }
  if target[2] ~= "" then headers["authorization"] = target[2] end
  return wrk.format(method, target[1], headers, body)
end

local refusals = 0
function response(status, headers, body)
  if status >= 300 and refusals < 3 then
    refusals = refusals + 1
    io.stderr:write("refused " .. status .. ": " .. body .. "\\n")
  end
end
`,
  );
  return file;
}
