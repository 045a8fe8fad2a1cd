"""The declaration of a study: the ``study.yaml`` schema (pydantic), its loading with
``file:line`` messages, the programme theory and the template for new studies.

The study schema composes what the layers below offer: data sources, the metric registry and
every design family's typed options.
"""
