"""Python's `openai` package against the gateway: a tool call answered by
hand (non-streamed), the final answer streamed with usage, the session
header read back, and an error raised as the package's own exception class.
Prints one JSON object.

    python python_openai.py '{"baseURL": "...", "apiKey": "...", "marker": "..."}'
"""
import json
import sys

import openai

config = json.loads(sys.argv[1])
client = openai.OpenAI(base_url=config["baseURL"], api_key=config["apiKey"], max_retries=0)
marker = config["marker"]
weather_tool = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
messages = [
    {"role": "system", "content": "You are a weather bot."},
    {"role": "user", "content": f"Weather in Paris? {marker} python"},
]

raw = client.chat.completions.with_raw_response.create(model="moa/duo", messages=messages, tools=[weather_tool])
first = raw.parse()
call = first.choices[0].message.tool_calls[0]
messages.append(first.choices[0].message.model_dump(exclude_none=True))
messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"sky":"sunny","celsius":21}'})

text = ""
usage = None
chunks = 0
stream = client.chat.completions.create(
    model="moa/duo", messages=messages, tools=[weather_tool], stream=True, stream_options={"include_usage": True},
)
for chunk in stream:
    chunks += 1
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
    if chunk.usage is not None:
        usage = chunk.usage.total_tokens

headed = client.chat.completions.create(
    model="moa/solo",
    messages=[{"role": "user", "content": f"hello {marker} via header"}],
    extra_headers={"x-moa-session-id": f"py-session {marker}"},
)

try:
    client.chat.completions.create(model="moa/unknown", messages=[{"role": "user", "content": "x"}])
    not_found = None
except openai.NotFoundError as err:
    not_found = {"status": err.status_code, "code": err.code, "type": err.type, "param": err.param}

print(json.dumps({
    "finish_reason": first.choices[0].finish_reason,
    "tool_call": [call.function.name, call.function.arguments],
    "session_header": raw.headers.get("x-moa-session-id"),
    "text": text,
    "chunks": chunks,
    "usage_total": usage,
    "headed": headed.choices[0].message.content,
    "not_found": not_found,
}))
