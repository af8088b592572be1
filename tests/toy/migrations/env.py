from shared.migrations import run_env
from tests.toy.service import metadata

run_env(metadata)
