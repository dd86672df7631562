"""The rules of the world, one small pure function each. `app.engine.step` applies them in order."""
