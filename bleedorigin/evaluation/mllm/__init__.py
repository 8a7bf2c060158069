"""MLLM baseline harness (paper Table 4, Fig. 8) and source scoring with misses.

Run ``python -m bleedorigin.evaluation.mllm.harness export|score --help``.
"""
from ..functional import nearest_source_errors, score_source_predictions
from .answer_parser import ParsedAnswer, parse_answer, parse_image_size, to_absolute
from .harness import export_requests, read_answers, score_answer_records, score_answers
from .prompt import BLEEDING_SOURCE_PROMPT, PromptTemplate

__all__ = [
    'BLEEDING_SOURCE_PROMPT', 'PromptTemplate', 'ParsedAnswer', 'parse_answer',
    'parse_image_size', 'to_absolute', 'export_requests', 'read_answers', 'score_answers',
    'score_answer_records', 'score_source_predictions', 'nearest_source_errors'
]
