"""Recipes (minigan/training/recipes.py, `minigan train --recipe`, `minigan recipes`): each is a
valid configuration, flags beside one override it and are recorded, resume and eval know."""
import dataclasses
import json

import pytest

from minigan.cli import main as cli
from minigan.store.checkpoint import read_checkpoint
from minigan.training.recipes import RECIPES, listing, overrides
from minigan.training import TrainConfig

REQUIRED = {"default", "wgan-gp", "wgan-gp-dcgan", "r1", "projection", "acgan", "ring8",
            "grid25", "digits", "digits-conditional"}
FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def test_the_required_recipes_exist_and_each_is_a_valid_configuration():
    assert REQUIRED <= set(RECIPES)
    for name, recipe in RECIPES.items():
        assert set(recipe.settings) <= FIELDS, name
        config = TrainConfig.from_recipe(name).validate()
        assert config.recipe == name
        assert all(getattr(config, k) == v for k, v in recipe.settings.items()), name
        assert overrides(config) == {}
        assert recipe.papers and recipe.measured and recipe.cpu, name


def test_the_default_recipe_is_the_run_with_no_flags():
    plain, recipe = TrainConfig().to_dict(), TrainConfig.from_recipe("default").to_dict()
    plain.pop("recipe"), recipe.pop("recipe")
    assert recipe == {**plain, "steps": recipe["steps"]} and recipe["steps"] == 4000


def test_the_digits_recipes_keep_the_best_checkpoint():
    """best.npz needs evaluation during the run."""
    for name in ("digits", "digits-conditional"):
        assert RECIPES[name].settings["eval_every"] > 0


def test_minigan_recipes_lists_every_recipe_with_its_figures(capsys):
    assert cli.main(["recipes"]) == 0
    out = capsys.readouterr().out
    assert out == listing()
    for name, recipe in RECIPES.items():
        assert f"{name}: {recipe.summary}" in out and recipe.measured in out
    assert "--loss wgan --gp 10.0 --d-steps 5" in out and "--beta2 0.9" in out


def test_an_unknown_recipe_is_a_one_line_error(capsys):
    assert cli.main(["train", "--recipe", "best-ever"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'best-ever'" in err[0] and "digits" in err[0]
    with pytest.raises(ValueError, match="unknown recipe 'best-ever'"):
        TrainConfig.from_recipe("best-ever")
    with pytest.raises(ValueError, match="unknown recipe 'best-ever'"):
        TrainConfig(recipe="best-ever").validate()


RUN = ["train", "--recipe", "ring8", "--steps", "3", "--batch-size", "16", "--no-progress"]


@pytest.fixture(scope="module")
def recipe_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ring8-recipe")
    assert cli.main(RUN + ["--out", str(out)]) == 0
    return out


def test_flags_beside_a_recipe_override_it_and_the_run_records_both(recipe_run, capsys):
    config = read_checkpoint(recipe_run).config
    assert config["recipe"] == "ring8"
    assert (config["steps"], config["batch_size"]) == (3, 16)  # the flags
    assert (config["lr"], config["eval_every"]) == (1e-3, 1000)  # the recipe
    assert overrides(config) == {"steps": (4000, 3), "batch_size": (256, 16)}


def test_train_says_which_recipe_and_what_overrides_it(tmp_path, capsys):
    assert cli.main(RUN + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "recipe ring8 (overridden: --steps 3 (the recipe has 4000), --batch-size 16 " \
           "(the recipe has 256))" in out


def test_resume_accepts_the_recipe_repeated_and_refuses_another(recipe_run, capsys):
    assert cli.main(["train", "--resume", str(recipe_run), "--recipe", "grid25", "--steps",
                     "4", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--recipe grid25 (the run has ring8) cannot be changed when resuming" in err
    assert cli.main(["train", "--resume", str(recipe_run), "--recipe", "ring8", "--steps",
                     "4", "--no-progress"]) == 0
    assert read_checkpoint(recipe_run).step == 4
    assert read_checkpoint(recipe_run).config["recipe"] == "ring8"


def test_eval_names_the_recipe_and_its_overrides(recipe_run, capsys):
    assert cli.main(["eval", "--checkpoint", str(recipe_run), "--n", "50"]) == 0
    err = capsys.readouterr().err
    assert "a run of recipe ring8 (overridden: --steps" in err


def test_the_recipe_benchmark_reruns_scores_and_reports(tmp_path):
    """benchmarks/recipes.py end to end on a shortened ring8 recipe, two seeds."""
    from benchmarks import recipes as bench

    runs, records = tmp_path / "runs", tmp_path / "runs.jsonl"
    report, readme = tmp_path / "QUALITY.md", tmp_path / "README.md"
    report.write_text("# before\n")
    readme.write_text("intro\n<!-- recipes-table -->\nold\n<!-- /recipes-table -->\nend\n")
    assert bench.main(["ring8", "--seeds", "0", "1", "--runs", str(runs), "--json",
                       str(records), "--report", str(report), "--readme", str(readme), "--",
                       "--steps", "20", "--eval-every", "10", "--batch-size", "32"]) == 0
    lines = [json.loads(line) for line in open(records)]
    assert [r["seed"] for r in lines] == [0, 1]
    for r in lines:
        assert r["cpu_s"] > 0 and r["extra"] == ["--steps", "20", "--eval-every", "10",
                                                 "--batch-size", "32"]
        assert r["last"]["step"] == 20 and r["best"]["step"] in (10, 20)
        assert r["best"]["high_quality"] == pytest.approx(
            max(p["high_quality"] for p in r["curve"]), abs=0.05)  # other noise than eval's
    text = report.read_text()
    assert text.startswith("# before\n") and "<!-- recipe:ring8 -->" in text
    assert "| 0 |" in text and "| 1 |" in text and "Over the seeds" in text
    bench.main(["ring8", "--seeds", "0", "1", "--json", str(records), "--report", str(report),
                "--no-train"])
    assert report.read_text().count("<!-- recipe:ring8 -->") == 1  # rewritten, not added
    table = readme.read_text()
    assert "old" not in table and table.endswith("end\n") and "| `digits` |" in table
    assert "2 seeds, mean (min-max)" in table


def test_a_rerun_replaces_the_older_record_of_its_recipe_and_seed(tmp_path):
    """After a recipe's settings change, its seeds' new records are the ones reported."""
    from benchmarks import recipes as bench

    path = tmp_path / "runs.jsonl"
    old = [{"recipe": "acgan", "seed": s, "cpu_s": 60.0} for s in (0, 1)]
    new = [{"recipe": "acgan", "seed": 0, "cpu_s": 120.0},
           {"recipe": "projection", "seed": 0, "cpu_s": 30.0}]
    path.write_text("".join(json.dumps(r) + "\n" for r in old + new))
    assert bench.read_records(str(path)) == [old[1]] + new
    assert bench.read_records(str(tmp_path / "absent.jsonl")) == []
