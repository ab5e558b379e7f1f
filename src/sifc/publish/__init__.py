"""What `sifc` produces from the package: release artifacts (`build`),
the data dictionary (`docs`), the HTML report, releases (`release`) and
the static site (`site`)."""
