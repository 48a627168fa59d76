"""Command line: ``magcycle`` (console script) and ``python -m magcycle``.

Subcommands::

    magcycle run [PLANT] [--feed FEED] [--rate RATE] [--out DIR] [--json]
                                      the main job: simulate a plant (default: the
                                      reference plant on its default feed blend)
    magcycle feed list | show FEED    the feedstock catalogue
    magcycle sx solve FILE [--json]   solve one cascade file (magcycle schema cascade)
    magcycle sx design FILE [--json] [--optimise-flows] [--max-stages N]
                                      design a cascade for its [targets]
    magcycle sx examples [--json]     solve the bundled example cascades
    magcycle uq [STUDY|PLANT] [--samples N] [--sobol N] [--scheduler ADDR] ...
                                      Monte Carlo over feed and model uncertainty
    magcycle design [STUDY|PLANT] [--probability P] ...
                                      robust design: fewest stages meeting spec with P
    magcycle tea [PLANT] [--scenario low|base|high] [--assumptions FILE] [--json]
                                      feasibility economics and carbon footprint
    magcycle compare INPUT INPUT ... [--plant PLANT] [--feed FEED] [--rate RATE] [--json]
                                      feeds, plants or saved results side by side
    magcycle trace init|receive|campaign|genealogy|planned|accounts|keys|checkpoint|audit|certify|verify|revoke
                                      lot traceability on the site's database (SQLite or PostgreSQL)
    magcycle plan campaigns PLAN | sequence FILE | stn FILE --horizon H
                                      campaign planning, sequencing, STN scheduling on HiGHS
    magcycle serve [--db URL] [--host H] [--port P] [--scheduler ADDR]
                                      the web application and REST API
    magcycle users add NAME --role ROLE [--password-file FILE] | list
                                      the web application's users
    magcycle schema [NAME]            JSON Schema of an input document
    magcycle units list | show TYPE | reference
                                      the unit types of a flowsheet, their ports and parameters

Exit status: 0 on success; 1 when a solve fails (:class:`~magcycle.errors.ConvergenceError`,
:class:`~magcycle.errors.MassBalanceError`, or an infeasible design); 2 for bad input (usage
errors and :class:`magcycle.errors.InputError`), printed as ``magcycle: error: FIELD: REASON``
on one line of stderr. Nothing is written on stdout, and no output file, unless the whole
command succeeded. An option given twice is bad input.

Only the standard library is imported at module level, so ``magcycle --help``
stays fast; numpy and the layers are imported by the handlers.

>>> main(["--version"])
magcycle 0.1.0
0
"""

from __future__ import annotations

import os
import signal
import sys

from magcycle import __version__
from magcycle.cli.common import EXIT_INPUT, EXIT_SOLVE, PROG, Failure, Once, Parser, file_name, one_line, say, seconds

__all__ = ["build_parser", "main"]


def _handler(module: str, name: str):
    """A handler imported when its command runs (keeps ``--help`` fast)."""
    def run(args):
        import importlib

        return getattr(importlib.import_module(f"magcycle.cli.{module}"), name)(args)
    return run


def _add_run(sub) -> None:
    run = sub.add_parser("run", help="the main job: simulate a plant (default: the built-in reference plant)",
                         description="Simulate a plant flowsheet on a feed; print the product table and write "
                         "results.json, report.html and streams.csv (replacing the folder's previous set as a whole).")
    run.add_argument("plant", nargs="?", metavar="PLANT", help="flowsheet file (TOML or JSON), or a built-in plant by "
                     "name: reference (the default) or reference-nd-pr (with the Nd/Pr split)")
    _feed_options(run)
    run.add_argument("--out", action=Once, default="magcycle-results", metavar="DIR",
                     help="folder for the output files, magcycle's own (default: magcycle-results)")
    run.add_argument("--json", action="store_true", help="print results.json on stdout")
    run.set_defaults(handler=_handler("plant", "cmd_run"))


def _feed_options(p) -> None:
    p.add_argument("--feed", action=Once, help="feed class (see 'magcycle feed list'), blend of classes by dry mass "
                   "such as ev=2,wind=1 (normalised), or an assay file (.csv/.toml; its own rate is honoured); "
                   "default: the plant's [feed]")
    p.add_argument("--rate", action=Once, help="dry feed rate, e.g. '150 kg/h' or '1200 t/y' (the plant's hours)")


def _add_feed(sub) -> None:
    feed = sub.add_parser("feed", help="feedstock catalogue", description="Feedstock catalogue.")
    feed_sub = feed.add_subparsers(dest="feed_command", metavar="ACTION", required=True)
    fl = feed_sub.add_parser("list", help="list the built-in feed classes")
    fl.set_defaults(handler=_handler("plant", "cmd_feed_list"))
    fs = feed_sub.add_parser("show", help="show a feed class, blend or assay file")
    fs.add_argument("feed", metavar="FEED")
    fs.add_argument("--rate", action=Once, help="dry feed rate (default 100 kg/h, or the assay's own)")
    fs.add_argument("--json", action="store_true")
    fs.set_defaults(handler=_handler("plant", "cmd_feed_show"))


def _add_sx(sub) -> None:
    sx = sub.add_parser("sx", help="solvent-extraction cascades", description="Solvent-extraction cascades.")
    sx_sub = sx.add_subparsers(dest="sx_command", metavar="ACTION", required=True)
    solve = sx_sub.add_parser("solve", help="solve one cascade file (TOML or JSON)",
                              description="Solve one cascade (TOML or JSON; magcycle schema cascade, and the "
                              "examples in magcycle/examples).")
    solve.add_argument("file", metavar="FILE", type=file_name, help="cascade file, .toml or .json")
    solve.add_argument("--json", action="store_true", help="print the result document as JSON")
    solve.set_defaults(handler=_handler("sx", "cmd_sx_solve"))
    design = sx_sub.add_parser(
        "design", help="design a cascade for purity/recovery targets",
        description="Fewest extraction + scrub stages that meet the [targets] of a cascade file at its flows (or, "
        "with --optimise-flows, the cheapest stages and flows, with the Pareto front of stages against organic "
        "flow); verified by the exact model. Exit status 1 when infeasible.")
    design.add_argument("file", metavar="FILE", type=file_name, help="cascade file with a [targets] table, .toml or .json")
    design.add_argument("--json", action="store_true", help="print the design document as JSON")
    design.add_argument("--optimise-flows", action="store_true",
                        help="also choose the organic and scrub flows (cost weights in [design])")
    design.add_argument("--max-stages", action=Once, type=int, metavar="N",
                        help="largest extraction + scrub stages searched, 1 to 2000 (default: [design] max_stages, 400)")
    design.set_defaults(handler=_handler("sx", "cmd_sx_design"))
    fit = sx_sub.add_parser(
        "fit", help="fit an SX model to batch shake-out data (CSV)",
        description="Weighted least squares of log10 D of a model's parameters to shake-out data: columns element, "
        "pH or acid, extractant, OA, and D or aqueous and organic (or aqueous_initial and aqueous); optional test and "
        "weight. Prints the parameters with 95 %% intervals and a block for the cascade file; --out writes fit.json, "
        "fit.html (parity and residual plots) and parameters.toml.")
    fit.add_argument("data", metavar="DATA.csv", type=file_name, help="shake-out data, CSV with a header row")
    fit.add_argument("--model", action=Once, required=True, choices=("empirical_ph", "mass_action", "constant_beta"),
                     help="the model whose parameters are fitted")
    fit.add_argument("--element", action="append", metavar="EL", help="fit only this element (repeatable); one "
                     "the data lacks is an error")
    fit.add_argument("--reference", action=Once, metavar="EL", help="constant_beta: the element with beta = 1 "
                     "(default: the data's first)")
    fit.add_argument("--json", action="store_true", help="print the fit document as JSON")
    fit.add_argument("--out", action=Once, metavar="DIR", help="write fit.json, fit.html and parameters.toml here")
    fit.set_defaults(handler=_handler("sx", "cmd_sx_fit"))
    examples = sx_sub.add_parser("examples", help="solve the bundled example cascades",
                                 description="Solve the bundled example cascades and tabulate their products.")
    examples.add_argument("--json", action="store_true", help="print the result documents as JSON, by example name")
    examples.set_defaults(handler=_handler("sx", "cmd_sx_examples"))


def _study_options(p, what: str) -> None:
    p.add_argument("study", nargs="?", metavar="STUDY|PLANT", type=file_name,
                   help="study file ([study], [parameters], [metrics]; magcycle schema study), or a plant (built-in "
                   "name or flowsheet file) with the catalogue's feed variability; default: the reference plant")
    p.add_argument("--samples", action=Once, type=int, metavar="N", help=f"samples {what}")
    p.add_argument("--method", action=Once, choices=("random", "lhs", "sobol"), help="sampling method (default lhs)")
    p.add_argument("--seed", action=Once, type=int, help="random seed (default 0): the same seed, the same numbers on "
                   "any executor")
    p.add_argument("--scheduler", action=Once, metavar="ADDR", help="serial, processes[:N] (default) or a Dask "
                   "scheduler address tcp://host:port")
    p.add_argument("--workers", action=Once, type=int, metavar="N", help="local worker processes (default: cores)")
    p.add_argument("--json", action="store_true", help="print the result document as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--feed", action=Once, help="plant studies: the feed class or blend of classes (e.g. ev=2,wind=1) "
                   "in place of the plant's [feed]; its blend weights and assays are varied as the plant's would be")
    p.add_argument("--rate", action=Once, help="plant studies: dry feed rate, e.g. '600 t/y'")


def _add_uq(sub) -> None:
    uq = sub.add_parser("uq", help="Monte Carlo of a plant or cascade under uncertainty",
                        description="Seeded Monte Carlo over feed and model uncertainty: probability of meeting "
                        "spec with its interval, metric distributions, rank correlations and (with --sobol) Sobol "
                        "indices. Writes results.json, report.html and samples.csv.")
    _study_options(uq, "(default 1000)")
    uq.add_argument("--sobol", action=Once, type=int, metavar="N",
                    help="also Sobol indices from N base samples (N (d + 2) evaluations)")
    uq.add_argument("--out", action=Once, default="magcycle-uq", metavar="DIR", help="output folder (default magcycle-uq)")
    uq.set_defaults(handler=_handler("uq", "cmd_uq"))
    des = sub.add_parser("design", help="robust design: fewest stages meeting spec with a probability",
                         description="Robust design. For a plant: the smallest factor on the SX cuts' stages whose "
                         "Monte Carlo meets every product spec with the required probability (lower confidence "
                         "bound). For a cascade study with [targets]: the fewest extraction + scrub stages with "
                         "P(meets every target) >= probability. Exit status 1 when infeasible.")
    _study_options(des, "per candidate design (default: the study's, or enough that one failing sample does not "
                        "decide: 555 at P = 0.99 and 95 %% confidence)")
    des.add_argument("--probability", action=Once, type=float, metavar="P", help="required probability (default 0.99)")
    des.add_argument("--per-cut", action="store_true", help="plant: after the common stage factor, refine each SX "
                     "cut's own factor (more Monte Carlo runs, fewer stages)")
    des.add_argument("--envelope", action="store_true", help="plant: size the SX cuts for the catalogue's feed "
                     "envelope (the plant's blend, each class alone, every 1:1 pair, each run to its products' specs), "
                     "verified on --samples seeded random blends (default 300)")
    des.add_argument("--out", action=Once, default="magcycle-design", metavar="DIR",
                     help="output folder (default magcycle-design)")
    des.set_defaults(handler=_handler("uq", "cmd_design"))


def _add_tea(sub) -> None:
    tea = sub.add_parser("tea", help="feasibility economics and carbon footprint of a plant",
                         description="Capex, opex, revenue, discounted cash flow (NPV, IRR, payback), break-even "
                         "prices, tornado, scale and modules, and kg CO2e per kg of each oxide, from a plant solve. "
                         "Writes tea.json, tea.html and tea.xlsx.")
    tea.add_argument("plant", nargs="?", metavar="PLANT", help="flowsheet file or built-in plant name "
                     "(default: the reference plant)")
    _feed_options(tea)
    tea.add_argument("--scenario", action=Once, choices=("low", "base", "high"), default="base",
                     help="product price scenario")
    tea.add_argument("--assumptions", action=Once, metavar="FILE", type=file_name, help="TOML/JSON overriding any default "
                     "assumption (magcycle schema assumptions; defaults in magcycle/data/econ_defaults.toml)")
    tea.add_argument("--out", action=Once, default="magcycle-tea", metavar="DIR", help="output folder (default magcycle-tea)")
    tea.add_argument("--json", action="store_true", help="print tea.json on stdout")
    tea.set_defaults(handler=_handler("plant", "cmd_tea"))


def _add_reference(sub) -> None:
    schema = sub.add_parser("schema", help="JSON Schema of an input document",
                            description="Print the JSON Schema of an input document: cascade, flowsheet, unit:TYPE, "
                            "assay, study or assumptions; with no NAME, list them.")
    schema.add_argument("name", nargs="?", metavar="NAME")
    schema.set_defaults(handler=_handler("reference", "cmd_schema"))
    units = sub.add_parser("units", help="unit types of a flowsheet: ports and parameters",
                           description="The unit types a flowsheet may use.")
    units_sub = units.add_subparsers(dest="units_command", metavar="ACTION", required=True)
    ul = units_sub.add_parser("list", help="every unit type with its ports")
    ul.set_defaults(handler=_handler("reference", "cmd_units_list"))
    us = units_sub.add_parser("show", help="one unit type: ports and parameters (unit, range, default, meaning)")
    us.add_argument("type", metavar="TYPE")
    us.add_argument("--json", action="store_true")
    us.set_defaults(handler=_handler("reference", "cmd_units_show"))
    ur = units_sub.add_parser("reference", help="the flowsheet reference page (markdown; docs/flowsheet-reference.md)")
    ur.set_defaults(handler=_handler("reference", "cmd_units_reference"))


def _add_compare(sub) -> None:
    cmp = sub.add_parser("compare", help="two or more feeds, plants or saved results side by side",
                         description="Run each input to its products' specs (a feed on --plant, a plant on its own "
                         "feed or --feed; a saved results.json as it is) and print, per figure, every input's value "
                         "and the spread: products, recoveries, reagents per tonne, stages, TEA headline figures. "
                         "Writes compare.json and compare.html.")
    cmp.add_argument("inputs", nargs="*", metavar="INPUT", help="feed (class, blend, assay file), plant (file or "
                     "built-in name) or results.json of a run")
    cmp.add_argument("--plant", action=Once, metavar="PLANT", help="the plant feeds run on (default: the reference)")
    _feed_options(cmp)
    cmp.add_argument("--scenario", action=Once, choices=("low", "base", "high"), default="base",
                     help="product price scenario of the TEA figures")
    cmp.add_argument("--out", action=Once, default="magcycle-compare", metavar="DIR",
                     help="output folder (default magcycle-compare)")
    cmp.add_argument("--json", action="store_true", help="print compare.json on stdout")
    cmp.set_defaults(handler=_handler("compare", "cmd_compare"))


def _db_option(p) -> None:
    p.add_argument("--db", action=Once, metavar="URL", help="database URL (default: $MAGCYCLE_DATABASE_URL, else "
                   "sqlite:///magcycle.db in this folder; PostgreSQL as postgresql+psycopg://user@host:port/db)")


def _keys_option(p) -> None:
    p.add_argument("--keys", action=Once, metavar="DIR", help="folder of the site's private keys (default: "
                   "$MAGCYCLE_KEYS_DIR, else magcycle-keys in this folder)")


def _trace_parser(sub, name: str, handler: str, help: str, description: str, *, json: bool = True, keys: bool = False):
    p = sub.add_parser(name, help=help, description=description)
    _db_option(p)
    if keys:
        _keys_option(p)
    if json:
        p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=_handler("trace", handler))
    return p


def _add_trace(sub) -> None:
    trace = sub.add_parser("trace", help="lot traceability: receipts, campaigns, genealogy, ledger, certificates",
                           description="Feed lots, campaigns and product lots on the site's database, an append-only "
                           "hash-chained ledger with signed checkpoints, element accounts (pre-/post-consumer, "
                           "DFARS-eligible) and signed certificates (W3C VC 2.0, eddsa-jcs-2022). Each command is "
                           "one transaction. Exit status 4 when audit or verify fails.")
    ts = trace.add_subparsers(dest="trace_command", metavar="ACTION", required=True, parser_class=Parser)
    init = _trace_parser(ts, "init", "cmd_init", "create the database schema or migrate it to head",
                         "Create the schema (Alembic) or migrate it to head, and record the site.", json=False)
    init.add_argument("--site", action=Once, help="the site's id, recorded once (default 'site')")
    init.add_argument("--country", action=Once, help="the site's country, ISO 3166 alpha-2 (default unknown)")
    rec = _trace_parser(ts, "receive", "cmd_receive", "record feed lots from receipt files",
                        "Record feed lots: supplier, category, pre/post-consumer, dry mass, assay, origin by stage, "
                        "evidence (magcycle schema receipt). Several files are one transaction: all are recorded, "
                        "or none; --json prints the lot's record, or a list of them for several files.")
    rec.add_argument("files", nargs="+", metavar="RECEIPT", type=file_name, help="receipt file(s), .toml or .json")
    camp = _trace_parser(ts, "campaign", "cmd_campaign", "run a campaign on the plant and record its product lots",
                         "Run the plant on the campaign's blend of lots, create its product lots (measured masses "
                         "replace simulated ones where given), book their recycled content into the element accounts "
                         "(magcycle schema campaign). Exit status 3 when a product is off spec (recorded).")
    camp.add_argument("file", metavar="CAMPAIGN", type=file_name, help="campaign file, .toml or .json")
    gen = _trace_parser(ts, "genealogy", "cmd_genealogy", "feed lots of a product lot, or product lots of a feed lot",
                        "Backward from a product lot to its feed lots (masses), forward from a feed lot to every "
                        "product lot it reached.")
    gen.add_argument("lot", metavar="LOT")
    pl = _trace_parser(ts, "planned", "cmd_planned", "the planned campaigns of the newest recorded plan",
                       "The campaigns of a plan recorded by 'magcycle plan campaigns PLAN --db URL --record' (the "
                       "newest, or --plan ID): family, custody, dates, lots.")
    pl.add_argument("--plan", action=Once, metavar="ID", help="a recorded plan's id (PLAN-<n>; default the newest)")
    _trace_parser(ts, "accounts", "cmd_accounts", "element accounts and their balances",
                  "Every element account (site/element/attribute/period) with its credits, debits and balance.")
    keys = _trace_parser(ts, "keys", "cmd_keys", "create, rotate or list the site's signing keys",
                         "Ed25519 signing keys: the private key is written to the key folder only (never to the "
                         "database or the output); its public did:key is recorded in the ledger.", keys=True)
    keys.add_argument("action", nargs="?", default="list", choices=("list", "create", "rotate"),
                      help="list (default), create the first key, or rotate to a new one")
    cp = _trace_parser(ts, "checkpoint", "cmd_checkpoint", "sign a Merkle checkpoint of the ledger",
                       "Sign the RFC 6962 Merkle root of the ledger with the site's key and write it as a file for "
                       "offtakers and auditors to keep.", json=False, keys=True)
    cp.add_argument("--out", action=Once, metavar="FILE", help="checkpoint file (default checkpoint-SIZE.json)")
    au = _trace_parser(ts, "audit", "cmd_audit", "check the ledger, its checkpoints and the tables",
                       "Exit 0 on an intact ledger; 4 naming the first bad entry (edited, deleted, reordered, "
                       "truncated, or disagreeing with a checkpoint) or table row.")
    au.add_argument("--checkpoint", action=Once, metavar="FILE", type=file_name, help="a signed checkpoint file")
    ce = _trace_parser(ts, "certify", "cmd_certify", "issue the signed certificate of a product lot",
                       "Issue a W3C Verifiable Credential 2.0 (Data Integrity proof, eddsa-jcs-2022, Ed25519) for a "
                       "product lot, claiming its recycled content from the accounts; writes the credential and a "
                       "certificate-of-analysis page (EN 10204 3.1).", keys=True)
    ce.add_argument("lot", metavar="LOT")
    ce.add_argument("--out", action=Once, metavar="FILE", help="credential file (default LOT.vc.json; the page "
                    "beside it as LOT.coa.html)")
    ve = _trace_parser(ts, "verify", "cmd_verify", "verify a certificate offline (exit 4 when invalid)",
                       "Check a certificate's signature offline; with --db also that its evidence is in "
                       "the ledger and it is not revoked; with --status-list, its revocation bit.",
                       json=False)
    ve.add_argument("file", metavar="CERT", type=file_name, help="the credential (JSON)")
    ve.add_argument("--key", action=Once, metavar="PUB", help="the issuer's public key: a did:key, or a file holding "
                    "one or a PEM public key (default: the key named in the proof)")
    ve.add_argument("--status-list", action=Once, metavar="FILE", help="the issuer's signed status list")
    rv = _trace_parser(ts, "revoke", "cmd_revoke", "revoke a certificate through the status list",
                       "Revoke a certificate: its bit in the revocation status list is set, its claim booked back, "
                       "and the signed status list written.", json=False, keys=True)
    rv.add_argument("certificate", metavar="CERT_ID")
    rv.add_argument("--reason", action=Once, default="revoked by the issuer", help="why (recorded in the ledger)")
    rv.add_argument("--status-list", action=Once, metavar="FILE", help="where to write the signed status list "
                    "(default status-list.json)")


def _add_plan(sub) -> None:
    plan = sub.add_parser("plan", help="campaign planning, STN scheduling and sequencing (MILP on HiGHS)",
                          description="Planning on one MILP layer solved by HiGHS (scipy.optimize.milp): the "
                          "solver's status, proven bound and gap are reported with every plan. Exit status 1 when "
                          "the problem is infeasible.")
    ps = plan.add_subparsers(dest="plan_command", metavar="ACTION", required=True, parser_class=Parser)
    camp = ps.add_parser("campaigns", help="plan campaigns: which lots, in which weeks, for which orders",
                         description="Weekly campaign plan on one line: lots (from the file or --db), offtake orders "
                         "with due dates, DFARS-only and post-consumer requirements, changeovers between families; "
                         "maximises the margin. Writes plan.json and plan.html (Gantt). Exit 1 naming the orders "
                         "that cannot be met.")
    camp.add_argument("file", metavar="PLAN", type=file_name, help="plan file, .toml or .json (magcycle schema plan)")
    _db_option(camp)
    camp.add_argument("--time-limit", action=Once, type=seconds, default=60.0, metavar="S",
                      help="solver time limit in seconds (default 60)")
    camp.add_argument("--gap", action=Once, type=float, default=0.01, metavar="G",
                      help="relative gap at which the solver stops (default 0.01)")
    camp.add_argument("--out", action=Once, default="magcycle-plan", metavar="DIR",
                      help="output folder (default magcycle-plan)")
    camp.add_argument("--json", action="store_true", help="print plan.json on stdout")
    camp.add_argument("--record", action="store_true", help="record the planned campaigns in the --db database as "
                      "planned (a ledger entry and its rows, one transaction; 'magcycle trace planned' lists them)")
    camp.set_defaults(handler=_handler("plan_campaigns", "cmd_campaigns"))
    seq = ps.add_parser("sequence", help="order campaigns on one line with family changeovers",
                        description="Sequence jobs (campaigns) on one line: jobs {name: {family, proc_days, due_day, "
                        "weight}}, setup_days {from_family: {to_family: days}}, initial_family; minimise the "
                        "weighted tardiness or the makespan.")
    seq.add_argument("file", metavar="FILE", type=file_name, help="sequencing file, .toml or .json")
    seq.add_argument("--objective", action=Once, choices=("weighted_tardiness", "makespan"),
                     default="weighted_tardiness", help="what to minimise (default weighted_tardiness)")
    seq.add_argument("--time-limit", action=Once, type=seconds, default=60.0, metavar="S",
                     help="solver time limit in seconds (default 60)")
    seq.add_argument("--json", action="store_true", help="print the result as JSON")
    seq.set_defaults(handler=_handler("plan_sequence", "cmd_sequence"))
    stn = ps.add_parser("stn", help="state-task network batch scheduling (Kondili et al. 1993)",
                        description="Discrete-time state-task network scheduling: maximise the value of the final "
                        "states at the horizon; every task finishes by the horizon.")
    stn.add_argument("file", metavar="FILE", type=file_name, help="STN file, .toml or .json")
    stn.add_argument("--horizon", action=Once, type=float, required=True, metavar="H", help="horizon in hours")
    stn.add_argument("--integer-batches", action="store_true", help="batch sizes in whole units")
    stn.add_argument("--time-limit", action=Once, type=seconds, default=60.0, metavar="S",
                     help="solver time limit in seconds (default 60)")
    stn.add_argument("--json", action="store_true", help="print the result as JSON")
    stn.set_defaults(handler=_handler("plan_stn", "cmd_stn"))


def _add_web(sub) -> None:
    serve = sub.add_parser("serve", help="the plant's web application and REST API (FastAPI under uvicorn)",
                           description="Serve the pages and the REST API (/api/v1, reference at /api/docs) on the "
                           "site's database, which must be at the schema head (magcycle trace init). Users sign in "
                           "with the accounts made by 'magcycle users add'.")
    _db_option(serve)
    serve.add_argument("--host", action=Once, default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", action=Once, type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--scheduler", action=Once, metavar="ADDR",
                       help="where long jobs run: processes[:N] (default, a local pool) or a Dask scheduler "
                            "tcp://host:port")
    _keys_option(serve)
    serve.add_argument("--secure-cookies", action="store_true",
                       help="mark the session cookie Secure (set it when the site is served over HTTPS)")
    serve.set_defaults(handler=_handler("web", "cmd_serve"))
    users = sub.add_parser("users", help="the web application's users",
                           description="Add a user with a role (viewer, engineer, planner, compliance, admin), or "
                           "list them. The password is read from a prompt or from --password-file, never from an "
                           "argument; it is stored hashed (argon2id).")
    us = users.add_subparsers(dest="users_command", metavar="ACTION", required=True, parser_class=Parser)
    add = us.add_parser("add", help="add a user")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", action=Once, required=True, help="viewer, engineer, planner, compliance or admin")
    add.add_argument("--password-file", action=Once, metavar="FILE", type=file_name,
                     help="a file whose first line is the password (default: prompt twice)")
    _db_option(add)
    add.set_defaults(handler=_handler("web", "cmd_users_add"))
    ls = us.add_parser("list", help="list the users and their roles")
    _db_option(ls)
    ls.add_argument("--json", action="store_true", help="print the result as JSON")
    ls.set_defaults(handler=_handler("web", "cmd_users_list"))


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="NdFeB magnet recycling: solvent-extraction cascades and plant tools.",
                    epilog="Exit status: 0 ok, 1 solve failed, 2 bad input, 3 products off spec, 4 verification "
                           "failed.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for add in (_add_run, _add_feed, _add_sx, _add_uq, _add_tea, _add_compare, _add_trace, _add_plan,
                _add_web, _add_reference):
        add(sub)
    return parser


def _terminate(signum, frame):
    raise KeyboardInterrupt  # unwinds, so that temporary output is removed


def _write(text: str) -> int:
    """Print the command's output; the exit status when it cannot be written (else 0)."""
    if sys.stdout is None:  # started with stdout closed (`magcycle run >&-`)
        say(f"{PROG}: error: cannot write the output: standard output is closed")
        return EXIT_SOLVE
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:  # `magcycle run | head -1`: the reader left; `> /dev/full`: no space
        if not isinstance(exc, BrokenPipeError):
            say(f"{PROG}: error: cannot write the output: {exc.strerror or type(exc).__name__}")
        # Point stdout at devnull so that the flush at exit does not fail again
        # (the recipe of the Python docs, "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_SOLVE
    return 0


def _plain_streams() -> None:
    """A character the terminal's encoding lacks (``PYTHONIOENCODING=ascii``, a file name in
    ``é``) is written escaped, not a failure after the work is done."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    _plain_streams()
    try:
        args = build_parser().parse_args(argv)
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _terminate)
        text = args.handler(args)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_INPUT)
    except Failure as fail:
        say(one_line(f"{PROG}: {fail.line}"))
        return fail.status
    except KeyboardInterrupt:
        say(f"{PROG}: interrupted")
        return 130
    except Exception as exc:  # a defect of magcycle, not of the input: still one line (MAGCYCLE_DEBUG shows it whole)
        if os.environ.get("MAGCYCLE_DEBUG"):
            raise
        say(f"{PROG}: internal error: {one_line(f'{type(exc).__name__}: {exc}', 300)} "
             "(MAGCYCLE_DEBUG=1 shows the traceback; please report it)")
        return EXIT_SOLVE
    text, status = text if isinstance(text, tuple) else (text, 0)
    return _write(text) or status
