"""Paper-shaped Markdown tables from flat metric keys."""
from bleedorigin.evaluation.tables import (
    OUR_METHOD,
    format_figure,
    group_metric_rows,
    render_metric_tables,
    render_table,
)


def test_group_metric_rows_separates_ours_and_baselines():
    metrics = {
        'track/lucas_kanade/err_le_10': 20.0,
        'track/err_le_10': 50.0,
        'track/err_avg': 12.5,
        'onset/prior_median/acc_0': 3.0,
        'not_a_task_key': 1.0,
    }
    grouped = group_metric_rows(metrics)
    assert list(grouped) == ['track', 'onset']
    assert list(grouped['track']) == [OUR_METHOD, 'lucas_kanade']  # ours first
    assert grouped['track'][OUR_METHOD] == {'err_le_10': 50.0, 'err_avg': 12.5}
    assert grouped['onset']['prior_median'] == {'acc_0': 3.0}


def test_render_table_bolds_best_per_direction():
    table = render_table('T', {
        'a': {'acc': 10.0, 'err': 5.0, 'bias': 1.0},
        'b': {'acc': 30.0, 'err': 7.0, 'bias': -2.0},
    }, [('acc', 'Acc', True), ('err', 'Err', False), ('bias', 'bias', None)])
    lines = table.splitlines()
    assert lines[0] == '**T**'
    assert lines[2] == '| Method | Acc | Err | bias |'
    assert lines[4] == '| a | 10.00 | **5.00** | 1.00 |'
    assert lines[5] == '| b | **30.00** | 7.00 | -2.00 |'


def test_render_metric_tables_follows_paper_order_and_marks_missing():
    metrics = {'source/err_le_10': 12.0, 'onset/acc_0': 47.0, 'onset/prior_median/acc_8': 9.0}
    text = render_metric_tables(metrics)
    assert text.index('Table 3') < text.index('Table 4')
    onset_rows = [line for line in text.splitlines() if line.startswith('| prior_median')]
    assert onset_rows and '–' in onset_rows[0]  # columns the prior has no value for
    assert 'Table 7' not in text


def test_nan_is_shown_as_not_available_and_never_bold():
    table = render_table('T', {'a': {'far': float('nan')}, 'b': {'far': float('nan')}},
                         [('far', 'FA', False)])
    assert '| a | n/a |' in table and '**' not in table.split('\n', 1)[1]


def test_format_figure_rounds_and_marks_missing_figures():
    assert format_figure(97.5) == '97.5' and format_figure(97.5, 2) == '97.50'
    assert format_figure(8) == '8.0' and format_figure(0.125, 2) == '0.12'
    assert format_figure(None) == format_figure(float('nan')) == 'n/a'
