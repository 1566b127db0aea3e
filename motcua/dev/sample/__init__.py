"""The deterministic sample export bundle (``motcua sample``, ``make run``).

:func:`motcua.dev.sample.bundle.write_sample` writes a folder laid out as the one-stop
system's export bundle (``procedures.csv``, ``agencies.csv``, ``dossiers/*.jsonl[.gz]``)
for the Department of Science and Technology of Bà Rịa - Vũng Tàu, 2018–2020.
Everything in it is made up, except what the seed report (the department's 2019 CCHC
report) publishes: the 15 procedures of its appendix tables 1 and 2 with their names,
online level and address, and their 2019 dossier counts, which the sample reproduces
exactly:

* 477 dossiers received in 2019 (11 online, 466 in person or by post), per procedure as
  :data:`motcua.dev.sample.catalogue.SEED_NEW_2019` lists, every one resolved on time
  within 2019; none carried over from 2018 (every 2018 dossier ends in 2018), none open
  at the end of 2019, none withdrawn in 2019; the only other 2019 dossiers are refused
  at intake (status 3) or online submissions never accepted (status 1), which count
  nowhere;
* 2018 and 2020 around it, with late, withdrawn, stopped, paused (supplement) and,
  at the end of 2020, open dossiers (some overdue), and one dossier whose procedure
  code (``1.999999``) is not in the catalogue but whose due is recorded.

The snapshots are messy the way real logs are, without changing any count: each
dossier's snapshots are spread over several files in shuffled order, some lines are
exact duplicates, some histories are out of order or repeat an entry, some names are
in decomposed Unicode (NFD) or spell the field "TCDLCL"/"TCĐLCL", some nulls are empty
strings, some timestamps carry ``+07:00`` or ``Z`` or are ISO 8601 (same instant), some
2018 dossiers are legacy records without ``NgayHenTra``, and one file has Windows line
ends. A handful of records (:data:`motcua.dev.sample.bad_records.QUARANTINE_CASES`)
must be quarantined; each uses a dossier code of its own.

Modules, in the order the sample is made: :mod:`~motcua.dev.sample.contract` (the
contract's names), :mod:`~motcua.dev.sample.catalogue` (agencies, procedures),
:mod:`~motcua.dev.sample.workdays` (working days from ``holidays.country_holidays("VN")``,
office hours), :mod:`~motcua.dev.sample.people` (applicants, staff),
:mod:`~motcua.dev.sample.generator` (the dossiers' lifecycles),
:mod:`~motcua.dev.sample.snapshots` (one snapshot per event),
:mod:`~motcua.dev.sample.render` (the JSON lines and their mess),
:mod:`~motcua.dev.sample.bad_records` (the records to quarantine) and
:mod:`~motcua.dev.sample.bundle` (the files). The output is byte-identical for a given
seed (``random.Random``, gzip ``mtime=0``, fixed key order). The sample is generated,
never committed.
"""
