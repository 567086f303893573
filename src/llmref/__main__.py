from llmref.cli import run

run()
