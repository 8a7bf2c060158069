"""Registration of every bleedorigin module and the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every bleedorigin package that registers something.

    Only the packages whose modules carry ``@X.register_module()``
    (datasets, engine, evaluation, models); ``apis`` and ``visualization``
    register nothing and sit above them, so they are not imported here.

    Args:
        init_default_scope (bool): Whether to set ``bleedorigin`` as the
            default scope, so configs name our types without a prefix.
            Defaults to True.
    """
    import bleedorigin.datasets  # noqa: F401
    import bleedorigin.engine  # noqa: F401
    import bleedorigin.evaluation  # noqa: F401
    import bleedorigin.models  # noqa: F401

    if not init_default_scope:
        return
    never_created = (DefaultScope.get_current_instance() is None
                     or not DefaultScope.check_instance_created('bleedorigin'))
    if never_created:
        DefaultScope.get_instance('bleedorigin', scope_name='bleedorigin')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'bleedorigin':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "bleedorigin", '
                      '`register_all_modules` will force the current '
                      'default scope to be "bleedorigin".')
        new_instance_name = f'bleedorigin-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='bleedorigin')
