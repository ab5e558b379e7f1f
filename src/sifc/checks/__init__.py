"""The validators and their rules: the frictionless layer and its Arrow
engine, the pandera layer with the table rules it runs (`rules`,
`textrules`), the Great Expectations layer and its suites, the checks of
descriptors and schemas (`schemacheck`) and the "did you mean" hints."""
