"""The console summary after `ddb-harness run`: exact percentiles where the harness measured them."""

from __future__ import annotations

from harness.run.summary import read_stats, summary_lines

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GetItem,walk_ring,100,2,10,12.5,1,80,120,33.3,0.6,10,13,16,19,30,52,92,120,310,630,780
Query,count_404,5,0,43,50,21,90,100,1.7,0,43,50,58,61,87,90,90,90,90,90,90
,Aggregated,105,2,11,14,1,90,119,35.0,0.6,11,14,18,21,36,69,140,120,310,630,780
"""
LATENCY = """type,name,count,min_ms,mean_ms,p50_ms,p90_ms,p95_ms,p99_ms,p99_9_ms,max_ms
GetItem,walk_ring,100,1.083,12.5,10.295,29.727,52.031,121.599,305.919,780.287
,Aggregated,105,1.083,14.0,10.751,35.999,69.247,119.263,305.919,780.287
"""


def test_exact_percentiles_replace_locusts_where_the_harness_file_has_the_row(tmp_path):
    (tmp_path / "locust_stats.csv").write_text(STATS)
    (tmp_path / "harness_latency.csv").write_text(LATENCY)
    lines = summary_lines(read_stats(tmp_path))
    assert lines[0].split()[-1] == "latency"
    get_item, query, aggregated = (line.split() for line in lines[1:])
    assert get_item == ["GetItem", "walk_ring", "100", "2", "33.3", "10.3", "121.6", "exact"]
    assert query == ["Query", "count_404", "5", "0", "1.7", "43", "90", "locust"]
    assert aggregated == ["Aggregated", "105", "2", "35.0", "10.8", "119.3", "exact"]


def test_without_harness_files_locusts_values_stay_and_no_stats_says_so(tmp_path):
    (tmp_path / "locust_stats.csv").write_text(STATS)
    assert all(line.endswith("locust") for line in summary_lines(read_stats(tmp_path))[1:])
    assert summary_lines(read_stats(tmp_path / "missing")) == ["no requests were recorded"]
