//! The Django models a project's models commonly inherit from, written
//! down as Django 5.2 defines them (fields in their deconstructed form), and
//! read by the same machinery as the project's own modules. Everything else
//! under `django.` is known to be no model. A few libraries' abstract models
//! with fixed fields are carried the same way.

/// The source of a Django module migguard carries, by dotted name.
pub fn source(module: &str) -> Option<&'static str> {
    Some(match module {
        "django.contrib.auth.base_user" => AUTH_BASE_USER,
        "django.contrib.auth.models" => AUTH_MODELS,
        "django.contrib.contenttypes.models" => CONTENTTYPES_MODELS,
        "django.contrib.sessions.base_session" => SESSIONS_BASE,
        "django.contrib.sessions.models" => SESSIONS_MODELS,
        "django.contrib.sites.models" => SITES_MODELS,
        "django.contrib.sites.managers" => SITES_MANAGERS,
        "django.contrib.admin.models" => ADMIN_MODELS,
        // Libraries' abstract models whose fields are fixed (read off
        // django-solo 2.5's source).
        "solo.models" => SOLO_MODELS,
        // django-tree-queries 0.28.
        "tree_queries.models" => TREE_QUERIES_MODELS,
        _ => return None,
    })
}

/// The app label of a Django module carried here.
pub fn app_label(module: &str) -> Option<&'static str> {
    let rest = module.strip_prefix("django.contrib.")?;
    Some(match rest.split('.').next()? {
        "auth" => "auth",
        "contenttypes" => "contenttypes",
        "sessions" => "sessions",
        "sites" => "sites",
        "admin" => "admin",
        _ => return None,
    })
}

/// `django.db.models.Model` under the names Django exports it.
pub fn is_model_root(path: &str) -> bool {
    matches!(
        path,
        "django.db.models.Model" | "django.db.models.base.Model"
    )
}

/// Django's own manager classes, with `use_in_migrations`.
pub fn django_manager(path: &str) -> Option<bool> {
    Some(match path {
        "django.db.models.Manager"
        | "django.db.models.manager.Manager"
        | "django.db.models.manager.BaseManager" => false,
        _ => return None,
    })
}

/// Names `from django.db.models import *` provides that model modules use.
pub fn is_models_export(name: &str) -> bool {
    name.ends_with("Field")
        || matches!(
            name,
            "Model"
                | "ForeignKey"
                | "OneToOneField"
                | "ManyToManyField"
                | "ForeignObject"
                | "Manager"
                | "QuerySet"
                | "Index"
                | "UniqueConstraint"
                | "CheckConstraint"
                | "Q"
                | "F"
                | "CASCADE"
                | "PROTECT"
                | "SET_NULL"
                | "SET_DEFAULT"
                | "DO_NOTHING"
                | "RESTRICT"
                | "SET"
                | "Deferrable"
                | "TextChoices"
                | "IntegerChoices"
                | "Choices"
                | "NOT_PROVIDED"
        )
}

const AUTH_BASE_USER: &str = r#"
from django.db import models

class BaseUserManager(models.Manager):
    pass

class AbstractBaseUser(models.Model):
    password = models.CharField(max_length=128, verbose_name='password')
    last_login = models.DateTimeField(blank=True, null=True, verbose_name='last login')

    class Meta:
        abstract = True
"#;

const AUTH_MODELS: &str = r#"
import django.contrib.auth.validators
import django.utils.timezone
from django.db import models
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.contenttypes.models import ContentType

class PermissionManager(models.Manager):
    use_in_migrations = True

class Permission(models.Model):
    name = models.CharField(max_length=255, verbose_name='name')
    content_type = models.ForeignKey(on_delete=models.CASCADE, to='contenttypes.contenttype', verbose_name='content type')
    codename = models.CharField(max_length=100, verbose_name='codename')
    objects = PermissionManager()

class GroupManager(models.Manager):
    use_in_migrations = True

class Group(models.Model):
    name = models.CharField(max_length=150, unique=True, verbose_name='name')
    permissions = models.ManyToManyField(blank=True, to='auth.permission', verbose_name='permissions')
    objects = GroupManager()

class UserManager(BaseUserManager):
    use_in_migrations = True

class PermissionsMixin(models.Model):
    is_superuser = models.BooleanField(default=False, help_text='Designates that this user has all permissions without explicitly assigning them.', verbose_name='superuser status')
    groups = models.ManyToManyField(blank=True, help_text='The groups this user belongs to. A user will get all permissions granted to each of their groups.', related_name='user_set', related_query_name='user', to='auth.group', verbose_name='groups')
    user_permissions = models.ManyToManyField(blank=True, help_text='Specific permissions for this user.', related_name='user_set', related_query_name='user', to='auth.permission', verbose_name='user permissions')

    class Meta:
        abstract = True

class AbstractUser(AbstractBaseUser, PermissionsMixin):
    username = models.CharField(error_messages={'unique': 'A user with that username already exists.'}, help_text='Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.', max_length=150, unique=True, validators=[django.contrib.auth.validators.UnicodeUsernameValidator()], verbose_name='username')
    first_name = models.CharField(blank=True, max_length=150, verbose_name='first name')
    last_name = models.CharField(blank=True, max_length=150, verbose_name='last name')
    email = models.EmailField(blank=True, max_length=254, verbose_name='email address')
    is_staff = models.BooleanField(default=False, help_text='Designates whether the user can log into this admin site.', verbose_name='staff status')
    is_active = models.BooleanField(default=True, help_text='Designates whether this user should be treated as active. Unselect this instead of deleting accounts.', verbose_name='active')
    date_joined = models.DateTimeField(default=django.utils.timezone.now, verbose_name='date joined')
    objects = UserManager()

    class Meta:
        verbose_name = 'user'
        verbose_name_plural = 'users'
        abstract = True

class User(AbstractUser):
    class Meta(AbstractUser.Meta):
        swappable = 'AUTH_USER_MODEL'
"#;

const CONTENTTYPES_MODELS: &str = r#"
from django.db import models

class ContentTypeManager(models.Manager):
    use_in_migrations = True

class ContentType(models.Model):
    app_label = models.CharField(max_length=100)
    model = models.CharField(max_length=100, verbose_name='python model class name')
    objects = ContentTypeManager()
"#;

const SESSIONS_BASE: &str = r#"
from django.db import models

class BaseSessionManager(models.Manager):
    pass

class AbstractBaseSession(models.Model):
    session_key = models.CharField(max_length=40, primary_key=True, verbose_name='session key')
    session_data = models.TextField(verbose_name='session data')
    expire_date = models.DateTimeField(db_index=True, verbose_name='expire date')
    objects = BaseSessionManager()

    class Meta:
        abstract = True
        verbose_name = 'session'
        verbose_name_plural = 'sessions'
"#;

const SESSIONS_MODELS: &str = r#"
from django.contrib.sessions.base_session import AbstractBaseSession, BaseSessionManager

class SessionManager(BaseSessionManager):
    use_in_migrations = True

class Session(AbstractBaseSession):
    objects = SessionManager()

    class Meta(AbstractBaseSession.Meta):
        db_table = 'django_session'
"#;

const SITES_MANAGERS: &str = r#"
from django.db import models

class CurrentSiteManager(models.Manager):
    use_in_migrations = True
"#;

const SITES_MODELS: &str = r#"
from django.db import models

class SiteManager(models.Manager):
    use_in_migrations = True

class Site(models.Model):
    domain = models.CharField(max_length=100, unique=True, verbose_name='domain name')
    name = models.CharField(max_length=50, verbose_name='display name')
    objects = SiteManager()
"#;

const ADMIN_MODELS: &str = r#"
from django.db import models

class LogEntryManager(models.Manager):
    use_in_migrations = True

class LogEntry(models.Model):
    objects = LogEntryManager()
"#;

const SOLO_MODELS: &str = r#"
from django.db import models

class SingletonModel(models.Model):
    singleton_instance_id = 1

    class Meta:
        abstract = True
"#;

const TREE_QUERIES_MODELS: &str = r#"
from django.db import models
from django.utils.translation import gettext_lazy as _
from tree_queries.fields import TreeNodeForeignKey

class TreeNode(models.Model):
    parent = TreeNodeForeignKey(
        "self",
        blank=True,
        null=True,
        on_delete=models.CASCADE,
        verbose_name=_("parent"),
        related_name="children",
    )

    class Meta:
        abstract = True
"#;
