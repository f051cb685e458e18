"""Python code that assigns to a name ending in `token` or `key` is not a published credential
(issue 12's "every readable card is read"): redacting `token = outputs.sequences[...]` gave 42 corpus
cards a false CR601 error and broke their code block, so their `generate()` settings went unread.
A real secret in the same places is still redacted. Each code line is a real card line."""
import pytest

from conftest import parsed

from cardrepro.read import redact


@pytest.mark.parametrize("line", [
    "token = outputs.sequences[0, input_length:]",                                      # togethercomputer_RedPajama-INCITE-7B-Base
    "    tokenizer.pad_token = tokenizer.eos_token",                                     # nisten_Biggie-SmoLlm-0.15B-Base
    "client = OpenAI(api_key='YOUR_API_KEY', base_url='http://0.0.0.0:23333/v1')",       # a placeholder
    "llm = OpenAI(model='gpt-3.5-turbo-0613', api_key=os.environ.get('OPENAI_API_KEY'), api_base=os.environ.get('OPENAI_BASE_URL'))",
])
def test_code_is_left_as_it_is(line):
    assert redact.redact_text(line) == line


@pytest.mark.parametrize("line", [
    "secret=abcdefghijklmnop",
    "password = 'Abc.Def123456'",               # quoted: a literal, whatever it looks like
    "password: s3cr3t.passw0rd.x",              # after a colon: a value, not code
    'token="abcdefghijklmnop1234"',
])
def test_a_secret_in_the_same_places_is_redacted(line):
    assert "[REDACTED:assigned_secret]" in redact.redact_text(line)


def test_generation_settings_after_such_a_line_are_read(write_card):
    card = write_card("# A card\n\n```python\nimport torch\ninputs = tokenizer(prompt, return_tensors='pt')\n"
                      "outputs = model.generate(**inputs, max_new_tokens=128, do_sample=True, temperature=0.7)\n"
                      "token = outputs.sequences[0, input_length:]\nprint(tokenizer.decode(token))\n```\n")
    spec = parsed(card)
    assert spec["generation"]["temperature"] == 0.7
    assert not (spec.get("hygiene") or {}).get("secrets")
